-- Hand-written: why a GeoJSON text is not a usable geometry value of an attribute (src/attributes/validate.ts),
-- or NULL. PostGIS raises on text it cannot parse; here that becomes a reason, so one bad value in a delivery is
-- a reject (row, field, reason) instead of an error that stops the whole batch.
CREATE OR REPLACE FUNCTION gb_geojson_defect(v text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  g geometry;
BEGIN
  BEGIN
    g := ST_GeomFromGeoJSON(v);
  EXCEPTION WHEN OTHERS THEN
    RETURN 'is not a GeoJSON geometry: ' || SQLERRM;
  END;
  IF g IS NULL OR ST_IsEmpty(g) THEN
    RETURN 'is an empty geometry';
  END IF;
  IF NOT ST_IsValid(g) THEN
    RETURN 'is not a valid geometry: ' || ST_IsValidReason(g);
  END IF;
  RETURN NULL;
END $$;

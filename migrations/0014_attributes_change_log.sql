-- Hand-written: attribute values (fields on demand, schema/attributes.ts) in the shared change log, and
-- attribute definitions and values kept (never deleted).
--
-- A value write logs an 'updated' change of its record with the changed field named
-- 'attributes.<code>' (never the value), in the record's division(s), so the change feed and its
-- jurisdiction and grant filters see it like a built-in field's change. A replacement closes the current
-- value with `govbase.attribute_replacing` set for the transaction (src/attributes/store.ts), so only the
-- insert of its successor logs; closing a value without it (a removal) logs from the update. Per statement,
-- from transition tables, after the log's lock (gb_change_log_serialise), as for the registry tables.
CREATE OR REPLACE FUNCTION gb_attribute_values_log(changed attribute_values[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                          other_division_code, changed_fields, source_dept, batch)
  SELECT CASE v.record_type WHEN 'person' THEN 'population' WHEN 'entity' THEN 'legal-entity' ELSE 'spatial' END,
         v.record_type, v.record_id::text, 'updated', NULL,
         coalesce(p.hukou_division_code, e.division_code, f.division_code), p.residence_division_code,
         array_agg(DISTINCT 'attributes.' || v.code ORDER BY 'attributes.' || v.code),
         min(v.source_dept), min(v.source_batch)
    FROM unnest(changed) v
    LEFT JOIN persons p ON v.record_type = 'person' AND p.id = v.record_id
    LEFT JOIN entities e ON v.record_type = 'entity' AND e.id = v.record_id
    LEFT JOIN features f ON v.record_type = 'feature' AND f.id = v.record_id
   GROUP BY v.record_type, v.record_id, p.hukou_division_code, p.residence_division_code, e.division_code,
            f.division_code
   ORDER BY v.record_type, v.record_id
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_attribute_values_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM gb_change_log_serialise();
  PERFORM gb_attribute_values_log(ARRAY(SELECT ROW(n.*)::attribute_values FROM new_rows n));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_attribute_values_log_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('govbase.attribute_replacing', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  PERFORM gb_attribute_values_log(ARRAY(
    SELECT ROW(n.*)::attribute_values FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o.valid_to IS NULL AND n.valid_to IS NOT NULL));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER attribute_values_log_insert AFTER INSERT ON attribute_values REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_attribute_values_log_insert();
--> statement-breakpoint
CREATE TRIGGER attribute_values_log_update AFTER UPDATE ON attribute_values
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_attribute_values_log_update();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_attributes_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are never deleted: retire the definition or close the value (valid_to)', TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
CREATE TRIGGER attribute_definitions_keep BEFORE DELETE ON attribute_definitions
  FOR EACH ROW EXECUTE FUNCTION gb_attributes_keep();
--> statement-breakpoint
CREATE TRIGGER attribute_values_keep BEFORE DELETE ON attribute_values
  FOR EACH ROW EXECUTE FUNCTION gb_attributes_keep();

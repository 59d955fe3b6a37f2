-- Hand-written: features keep history like persons and entities, and the change log records where a moved
-- record was before the change (issue #8).
--
-- 1. Every update or delete of a feature first copies the old row to features_history, column by column by
--    name (as 0010 does for persons and entities), and an update bumps `version` and sets `recorded_from`
--    (transaction time; a feature's valid_from/valid_to stay its business validity). An update of bookkeeping
--    only (gb_feature_comparable) and a re-encryption (gb_rekeying) are not new versions. A
--    column added to features later must be added to this list.
-- 2. The features' change-log rows carry the version, like persons' and entities'.
-- 3. A change that moves a record (a person's household registration or residence, an entity's, household's
--    or feature's division) logs the division(s) before the change in previous_division_code /
--    previous_other_division_code, so a jurisdiction filter finds the event in the county the record left
--    as well as in the one it reached.
CREATE OR REPLACE FUNCTION gb_feature_comparable(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT gb_unversioned_comparable(j) - ARRAY['version', 'recorded_from']
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_features_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF gb_rekeying() THEN
      RETURN NEW;
    END IF;
    -- Bookkeeping only (updated_at, source): not a new version, the row is written as given.
    IF gb_feature_comparable(to_jsonb(NEW)) = gb_feature_comparable(to_jsonb(OLD)) THEN
      RETURN NEW;
    END IF;
  END IF;
  INSERT INTO features_history (id, layer_id, geom, properties, valid_from, valid_to, division_code, updated_at,
      source_dept, source_batch, version, recorded_from, superseded_at)
  VALUES (OLD.id, OLD.layer_id, OLD.geom, OLD.properties, OLD.valid_from, OLD.valid_to, OLD.division_code,
      OLD.updated_at, OLD.source_dept, OLD.source_batch, OLD.version, OLD.recorded_from, now());
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.recorded_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER features_keep_history BEFORE UPDATE OR DELETE ON features
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION gb_features_keep_history();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_features_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'spatial', 'feature', n.id::text, 'registered', n.version, n.division_code, NULL, n.source_dept,
           n.source_batch
      FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'spatial', 'feature', o.id::text, 'deleted', o.version, o.division_code, NULL, o.source_dept,
           o.source_batch
      FROM old_rows o ORDER BY o.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            previous_division_code, changed_fields, source_dept, batch)
    SELECT 'spatial', 'feature', n.id::text, 'updated', n.version, n.division_code,
           CASE WHEN o.division_code IS DISTINCT FROM n.division_code THEN o.division_code END, c.fields,
           n.source_dept, n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (SELECT gb_feature_comparable(to_jsonb(n)) AS nj, gb_feature_comparable(to_jsonb(o)) AS oj) j
     CROSS JOIN LATERAL (
           SELECT array_agg(DISTINCT regexp_replace(d.key, '_bidx$', '')) AS fields
             FROM jsonb_each(j.nj) d
            WHERE d.value IS DISTINCT FROM j.oj -> d.key
           HAVING count(*) > 0) c
     ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER features_log_insert ON features;
--> statement-breakpoint
DROP TRIGGER features_log_update ON features;
--> statement-breakpoint
DROP TRIGGER features_log_delete ON features;
--> statement-breakpoint
CREATE TRIGGER features_log_insert AFTER INSERT ON features REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_features_log_changes();
--> statement-breakpoint
CREATE TRIGGER features_log_update AFTER UPDATE ON features REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_features_log_changes();
--> statement-breakpoint
CREATE TRIGGER features_log_delete AFTER DELETE ON features REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_features_log_changes();
--> statement-breakpoint
-- As in 0012, with the divisions before a move.
CREATE OR REPLACE FUNCTION gb_persons_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            other_division_code, changed_fields, source_dept, batch)
    SELECT 'population', 'person', n.id::text, 'registered', n.version, n.hukou_division_code,
           n.residence_division_code, NULL, n.source_dept, n.source_batch
      FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            other_division_code, changed_fields, source_dept, batch)
    SELECT 'population', 'person', o.id::text, 'deleted', o.version, o.hukou_division_code,
           o.residence_division_code, NULL, o.source_dept, o.source_batch
      FROM old_rows o ORDER BY o.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            other_division_code, previous_division_code, previous_other_division_code,
                            changed_fields, source_dept, batch)
    SELECT 'population', 'person', n.id::text, c.action, n.version, n.hukou_division_code,
           n.residence_division_code,
           CASE WHEN o.hukou_division_code IS DISTINCT FROM n.hukou_division_code THEN o.hukou_division_code END,
           CASE WHEN o.residence_division_code IS DISTINCT FROM n.residence_division_code
                THEN o.residence_division_code END,
           c.fields, n.source_dept, n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (SELECT gb_comparable(to_jsonb(n)) AS nj, gb_comparable(to_jsonb(o)) AS oj) j
     CROSS JOIN LATERAL (
           SELECT CASE WHEN f.field IN ('status', 'death_date') THEN 'status_changed'
                       WHEN f.field LIKE 'residence\_%' THEN 'moved'
                       ELSE 'updated' END AS action,
                  array_agg(f.field ORDER BY f.field) AS fields
             FROM (SELECT regexp_replace(d.key, '_bidx$', '') AS field
                     FROM jsonb_each(j.nj) d
                    WHERE d.value IS DISTINCT FROM j.oj -> d.key) f
            GROUP BY 1) c
     ORDER BY n.id, c.action;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- As in 0010, with the division before a move.
CREATE OR REPLACE FUNCTION gb_entities_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', n.uscc, 'registered', n.version, n.division_code, NULL, n.source_dept,
           n.source_batch
      FROM new_rows n ORDER BY n.id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', o.uscc, 'deleted', o.version, o.division_code, NULL, o.source_dept,
           o.source_batch
      FROM old_rows o ORDER BY o.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            previous_division_code, changed_fields, source_dept, batch)
    SELECT 'legal-entity', 'entity', n.uscc, c.action, n.version, n.division_code,
           CASE WHEN o.division_code IS DISTINCT FROM n.division_code THEN o.division_code END, c.fields,
           n.source_dept, n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (
           SELECT CASE WHEN f.field IN ('status', 'status_date') THEN 'status_changed'
                       WHEN f.field LIKE 'legal\_rep\_%' THEN 'legal_rep_changed'
                       ELSE 'updated' END AS action,
                  array_agg(f.field ORDER BY f.field) AS fields
             FROM (SELECT regexp_replace(d.key, '_bidx$', '') AS field
                     FROM jsonb_each(gb_comparable(to_jsonb(n))) d
                    WHERE d.value IS DISTINCT FROM gb_comparable(to_jsonb(o)) -> d.key) f
            GROUP BY 1) c
     ORDER BY n.id, c.action;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- As in 0012 (now households only), with the division before a move.
CREATE OR REPLACE FUNCTION gb_unversioned_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT TG_ARGV[0], TG_ARGV[1], n.id::text, 'registered', NULL, n.division_code, NULL, n.source_dept,
           n.source_batch
      FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT TG_ARGV[0], TG_ARGV[1], o.id::text, 'deleted', NULL, o.division_code, NULL, o.source_dept,
           o.source_batch
      FROM old_rows o ORDER BY o.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            previous_division_code, changed_fields, source_dept, batch)
    SELECT TG_ARGV[0], TG_ARGV[1], n.id::text, 'updated', NULL, n.division_code,
           CASE WHEN o.division_code IS DISTINCT FROM n.division_code THEN o.division_code END, c.fields,
           n.source_dept, n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (SELECT gb_unversioned_comparable(to_jsonb(n)) AS nj,
                                gb_unversioned_comparable(to_jsonb(o)) AS oj) j
     CROSS JOIN LATERAL (
           SELECT array_agg(DISTINCT regexp_replace(d.key, '_bidx$', '')) AS fields
             FROM jsonb_each(j.nj) d
            WHERE d.value IS DISTINCT FROM j.oj -> d.key
           HAVING count(*) > 0) c
     ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;

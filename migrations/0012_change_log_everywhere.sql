-- Hand-written: the change log generalised from entities (0004) to persons, households and features, and
-- the second division a change belongs to (a person's residence beside the household registration), so a
-- consumer's jurisdiction filter sees a person where the person is registered or lives.
--
-- As for entities: one row per record and kind of change, written per statement from transition tables
-- (so a bulk import logs in one INSERT, not a trigger call per row), after the writer took the log's lock
-- (gb_change_log_serialise: sequence order is commit order), announced by the log's NOTIFY trigger.
-- Record keys are internal ids (an ID number or a household number must not travel in the log). As for
-- entities since 0010, changed fields are read through gb_comparable (an encrypted column counts as changed
-- when its blind index did, under its own name) and a re-encryption (gb_rekeying) logs nothing.
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
                            other_division_code, changed_fields, source_dept, batch)
    SELECT 'population', 'person', n.id::text, c.action, n.version, n.hukou_division_code,
           n.residence_division_code, c.fields, n.source_dept, n.source_batch
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
CREATE TRIGGER persons_log_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_persons_log_changes();
--> statement-breakpoint
CREATE TRIGGER persons_log_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_persons_log_changes();
--> statement-breakpoint
CREATE TRIGGER persons_log_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_persons_log_changes();
--> statement-breakpoint
-- Households and features carry no version: their log rows have none. One function for both tables (PL/pgSQL
-- plans a trigger function per table it is attached to); the registry and record type are trigger arguments.
-- gb_comparable without dropping valid_from (a feature's valid_from is a business date, not bookkeeping).
CREATE OR REPLACE FUNCTION gb_unversioned_comparable(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT (j - ARRAY['updated_at', 'source_dept', 'source_batch'])
         - coalesce((SELECT array_agg(k) FROM jsonb_object_keys(j) k WHERE j ? (k || '_bidx')), '{}'::text[])
$$;
--> statement-breakpoint
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
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT TG_ARGV[0], TG_ARGV[1], n.id::text, 'updated', NULL, n.division_code, c.fields, n.source_dept,
           n.source_batch
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
--> statement-breakpoint
CREATE TRIGGER households_log_insert AFTER INSERT ON households REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('population', 'household');
--> statement-breakpoint
CREATE TRIGGER households_log_update AFTER UPDATE ON households
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('population', 'household');
--> statement-breakpoint
CREATE TRIGGER households_log_delete AFTER DELETE ON households REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('population', 'household');
--> statement-breakpoint
CREATE TRIGGER features_log_insert AFTER INSERT ON features REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('spatial', 'feature');
--> statement-breakpoint
CREATE TRIGGER features_log_update AFTER UPDATE ON features REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('spatial', 'feature');
--> statement-breakpoint
CREATE TRIGGER features_log_delete AFTER DELETE ON features REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_unversioned_log_changes('spatial', 'feature');

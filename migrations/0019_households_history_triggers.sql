-- Hand-written: households keep history like persons, entities and features (issue #8: an update keeps the
-- previous version with its validity).
--
-- 1. Every update or delete of a household first copies the old row to households_history, column by column
--    by name, and an update bumps `version` and sets `valid_from` (as persons do). A re-encryption
--    (gb_rekeying) is not a new version. A column added to households later must be added to this list.
-- 2. The households' change-log rows carry the version, like persons' (gb_unversioned_log_changes, which
--    only households used since 0016, is replaced by gb_households_log_changes).
CREATE OR REPLACE FUNCTION gb_households_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NEW;
  END IF;
  INSERT INTO households_history (id, household_number, type, head_person_id, division_code, address, address_bidx,
      version, valid_from, updated_at, source_dept, source_batch, superseded_at)
  VALUES (OLD.id, OLD.household_number, OLD.type, OLD.head_person_id, OLD.division_code, OLD.address,
      OLD.address_bidx, OLD.version, OLD.valid_from, OLD.updated_at, OLD.source_dept, OLD.source_batch, now());
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.valid_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER households_keep_history BEFORE UPDATE OR DELETE ON households
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION gb_households_keep_history();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_households_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'population', 'household', n.id::text, 'registered', n.version, n.division_code, NULL, n.source_dept,
           n.source_batch
      FROM new_rows n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'population', 'household', o.id::text, 'deleted', o.version, o.division_code, NULL, o.source_dept,
           o.source_batch
      FROM old_rows o ORDER BY o.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                            previous_division_code, changed_fields, source_dept, batch)
    SELECT 'population', 'household', n.id::text, 'updated', n.version, n.division_code,
           CASE WHEN o.division_code IS DISTINCT FROM n.division_code THEN o.division_code END, c.fields,
           n.source_dept, n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (SELECT gb_comparable(to_jsonb(n)) AS nj, gb_comparable(to_jsonb(o)) AS oj) j
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
DROP TRIGGER households_log_insert ON households;
--> statement-breakpoint
DROP TRIGGER households_log_update ON households;
--> statement-breakpoint
DROP TRIGGER households_log_delete ON households;
--> statement-breakpoint
CREATE TRIGGER households_log_insert AFTER INSERT ON households REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_households_log_changes();
--> statement-breakpoint
CREATE TRIGGER households_log_update AFTER UPDATE ON households
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_households_log_changes();
--> statement-breakpoint
CREATE TRIGGER households_log_delete AFTER DELETE ON households REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_households_log_changes();
--> statement-breakpoint
DROP FUNCTION gb_unversioned_log_changes();

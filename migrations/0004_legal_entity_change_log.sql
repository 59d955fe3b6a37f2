-- Hand-written: entity history, the change log triggers and its NOTIFY.
--
-- Entities keep history like persons: every update or delete first copies the old row to entities_history
-- (same columns in the same order, plus superseded_at). An update that changes nothing but bookkeeping is
-- dropped, so it neither bumps the version nor reaches the change log.
CREATE OR REPLACE FUNCTION gb_entities_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF (to_jsonb(NEW) - ARRAY['version', 'valid_from', 'updated_at', 'source_dept', 'source_batch'])
       = (to_jsonb(OLD) - ARRAY['version', 'valid_from', 'updated_at', 'source_dept', 'source_batch']) THEN
      RETURN NULL;
    END IF;
    INSERT INTO entities_history SELECT OLD.*, now();
    NEW.version := OLD.version + 1;
    NEW.valid_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  INSERT INTO entities_history SELECT OLD.*, now();
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER entities_keep_history BEFORE UPDATE OR DELETE ON entities
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION gb_entities_keep_history();
--> statement-breakpoint
-- Every writer of change_log takes this transaction-scoped lock before it draws a sequence number, so
-- sequence order is commit order: a consumer that has read up to seq N never later meets a committed
-- row below N. Writers to the log are serialised; registry writes are short, and bulk loads write the log
-- once per statement (statement-level triggers with transition tables), not once per row.
CREATE OR REPLACE FUNCTION gb_change_log_serialise() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(1667787879) -- 'chlg'
$$;
--> statement-breakpoint
-- Entity changes: a registration, a deletion, or per update one row per kind of change (a status change,
-- a legal-representative change, any other field), each naming its changed columns.
CREATE OR REPLACE FUNCTION gb_entities_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', n.uscc, c.action, n.version, n.division_code, c.fields, n.source_dept,
           n.source_batch
      FROM new_rows n
      JOIN old_rows o ON o.id = n.id
     CROSS JOIN LATERAL (
           SELECT CASE WHEN d.key IN ('status', 'status_date') THEN 'status_changed'
                       WHEN d.key LIKE 'legal\_rep\_%' THEN 'legal_rep_changed'
                       ELSE 'updated' END AS action,
                  array_agg(d.key ORDER BY d.key) AS fields
             FROM jsonb_each(to_jsonb(n)) d
            WHERE d.key NOT IN ('version', 'valid_from', 'updated_at', 'source_dept', 'source_batch')
              AND d.value IS DISTINCT FROM to_jsonb(o) -> d.key
            GROUP BY 1) c
     ORDER BY n.id, c.action;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER entities_log_insert AFTER INSERT ON entities REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_entities_log_changes();
--> statement-breakpoint
CREATE TRIGGER entities_log_update AFTER UPDATE ON entities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_entities_log_changes();
--> statement-breakpoint
CREATE TRIGGER entities_log_delete AFTER DELETE ON entities REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_entities_log_changes();
--> statement-breakpoint
-- A shareholding change is a change of the entity whose shares are held: one row per entity and statement.
CREATE OR REPLACE FUNCTION gb_shareholdings_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM gb_change_log_serialise();
  IF TG_OP = 'INSERT' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', e.uscc, 'shareholding_changed', e.version, e.division_code,
           ARRAY['shareholdings'], t.source_dept, t.source_batch
      FROM (SELECT entity_id, min(source_dept) AS source_dept, min(source_batch) AS source_batch
              FROM new_rows GROUP BY entity_id) t
      JOIN entities e ON e.id = t.entity_id
     ORDER BY e.id;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', e.uscc, 'shareholding_changed', e.version, e.division_code,
           ARRAY['shareholdings'], t.source_dept, t.source_batch
      FROM (SELECT entity_id, min(source_dept) AS source_dept, min(source_batch) AS source_batch
              FROM old_rows GROUP BY entity_id) t
      JOIN entities e ON e.id = t.entity_id
     ORDER BY e.id;
  ELSE
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', e.uscc, 'shareholding_changed', e.version, e.division_code,
           ARRAY['shareholdings'], t.source_dept, t.source_batch
      FROM (SELECT entity_id, min(source_dept) AS source_dept, min(source_batch) AS source_batch
              FROM (SELECT entity_id, source_dept, source_batch FROM new_rows
                    UNION ALL
                    SELECT entity_id, source_dept, source_batch FROM old_rows) u
             GROUP BY entity_id) t
      JOIN entities e ON e.id = t.entity_id
     ORDER BY e.id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER shareholdings_log_insert AFTER INSERT ON shareholdings REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_shareholdings_log_changes();
--> statement-breakpoint
CREATE TRIGGER shareholdings_log_update AFTER UPDATE ON shareholdings
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_shareholdings_log_changes();
--> statement-breakpoint
CREATE TRIGGER shareholdings_log_delete AFTER DELETE ON shareholdings REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_shareholdings_log_changes();
--> statement-breakpoint
-- Push: one NOTIFY per statement that wrote the log, carrying only the highest new seq. Listeners re-read
-- the log after their last seq with their own jurisdiction and grants; the payload reveals nothing.
CREATE OR REPLACE FUNCTION gb_change_log_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
BEGIN
  SELECT max(seq) INTO last_seq FROM new_rows;
  IF last_seq IS NOT NULL THEN
    PERFORM pg_notify('govbase_changes', last_seq::text);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER change_log_notify AFTER INSERT ON change_log REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_change_log_notify();

-- Hand-written: what drizzle cannot express.
-- History is kept, not overwritten: every update or delete of a person first copies the old row to
-- persons_history (same columns in the same order, plus superseded_at; a test guards the order).
CREATE OR REPLACE FUNCTION gb_persons_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO persons_history SELECT OLD.*, now();
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.valid_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE TRIGGER persons_keep_history BEFORE UPDATE OR DELETE ON persons
  FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION gb_persons_keep_history();
--> statement-breakpoint
-- The access audit is append-only for everyone, owner included: tampering needs DDL, which the hash chain
-- then exposes.
CREATE OR REPLACE FUNCTION gb_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION gb_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION gb_audit_append_only();

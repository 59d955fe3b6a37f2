-- Hand-written: a change of a household's members reaches the change feed (issue #8: every change is
-- logged). Until now an import that moved a person to another household logged the person's new
-- household_id, but a new relation to the head within the same household (household_members only) logged
-- nothing, and no household learned that its members changed.
--
-- One row per household and statement: record type 'household', action 'members_changed', the household's
-- version and division. A membership opened (INSERT) or closed (UPDATE of valid_to) logs its household; a
-- move logs both households. The feed shows the action only to a consumer granted the household members
-- (src/exchange/feed.ts), as membership is what it reveals.
CREATE OR REPLACE FUNCTION gb_household_members_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM gb_change_log_serialise();
  INSERT INTO change_log (registry, record_type, record_key, action, version, division_code,
                          other_division_code, changed_fields, source_dept, batch)
  SELECT 'population', 'household', h.id::text, 'members_changed', h.version, h.division_code,
         NULL, ARRAY['members'], m.source_dept, m.source_batch
    FROM (SELECT household_id, max(source_dept) AS source_dept, max(source_batch) AS source_batch
            FROM new_rows GROUP BY household_id) m
    JOIN households h ON h.id = m.household_id
   ORDER BY h.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER household_members_log_insert AFTER INSERT ON household_members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_household_members_log_changes();
--> statement-breakpoint
CREATE TRIGGER household_members_log_update AFTER UPDATE ON household_members REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION gb_household_members_log_changes();

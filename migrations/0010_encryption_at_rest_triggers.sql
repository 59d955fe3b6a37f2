-- Hand-written: encryption at rest (issue #9, src/crypto/at-rest.ts).
--
-- 1. History rows are copied column by column, by name: the blind-index columns were appended to persons
--    and to persons_history (after superseded_at), so `SELECT OLD.*` no longer lines up. A column added
--    to persons or entities later must be added to these lists (test/crypto-at-rest.test.ts checks).
-- 2. A re-encryption (`npm run keys -- rotate` sets govbase.rekey locally in each of its transactions) is
--    not a change of the record: no history row, no new version, no change-log entry.
-- 3. Ciphertexts differ on every write (fresh IV), so whether an encrypted value changed is read from its
--    blind index (`<column>_bidx`), never from the ciphertext.
CREATE OR REPLACE FUNCTION gb_rekeying() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('govbase.rekey', true), '') = 'on'
$$;
--> statement-breakpoint
-- The data-key version of a stored value: 0 for a value still in clear, NULL for NULL.
CREATE OR REPLACE FUNCTION gb_key_version(stored text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN stored IS NULL THEN NULL
              WHEN stored LIKE 'sm4.%' THEN split_part(stored, '.', 2)::integer
              ELSE 0 END
$$;
--> statement-breakpoint
-- A row as jsonb without bookkeeping and without ciphertexts that have a blind index beside them: what an
-- update must change to be a change.
CREATE OR REPLACE FUNCTION gb_comparable(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT (j - ARRAY['version', 'valid_from', 'updated_at', 'source_dept', 'source_batch'])
         - coalesce((SELECT array_agg(k) FROM jsonb_object_keys(j) k WHERE j ? (k || '_bidx')), '{}'::text[])
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_persons_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NEW;
  END IF;
  INSERT INTO persons_history (id, id_number, id_number_bidx, name, gender, birth_date, ethnicity, nationality,
      hukou_division_code, hukou_address, hukou_address_bidx, residence_division_code, residence_address,
      residence_address_bidx, residence_point, marital_status, education, phone, phone_bidx, status, death_date,
      household_id, version, valid_from, updated_at, source_dept, source_batch, superseded_at)
  VALUES (OLD.id, OLD.id_number, OLD.id_number_bidx, OLD.name, OLD.gender, OLD.birth_date, OLD.ethnicity,
      OLD.nationality, OLD.hukou_division_code, OLD.hukou_address, OLD.hukou_address_bidx,
      OLD.residence_division_code, OLD.residence_address, OLD.residence_address_bidx, OLD.residence_point,
      OLD.marital_status, OLD.education, OLD.phone, OLD.phone_bidx, OLD.status, OLD.death_date,
      OLD.household_id, OLD.version, OLD.valid_from, OLD.updated_at, OLD.source_dept, OLD.source_batch, now());
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.valid_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION gb_entities_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF gb_rekeying() THEN
      RETURN NEW;
    END IF;
    IF gb_comparable(to_jsonb(NEW)) = gb_comparable(to_jsonb(OLD)) THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO entities_history (id, uscc, uscc_status, name, registration_dept, category, legal_form,
      legal_rep_person_id, legal_rep_name, legal_rep_id_number, legal_rep_id_number_bidx, registered_capital,
      capital_currency, established_on, status, status_date, business_scope, industry_code, division_code,
      address, point, registration_authority, parent_entity_id, parent_relation, asset_band, total_assets,
      annual_revenue, version, valid_from, updated_at, source_dept, source_batch, superseded_at)
  VALUES (OLD.id, OLD.uscc, OLD.uscc_status, OLD.name, OLD.registration_dept, OLD.category, OLD.legal_form,
      OLD.legal_rep_person_id, OLD.legal_rep_name, OLD.legal_rep_id_number, OLD.legal_rep_id_number_bidx,
      OLD.registered_capital, OLD.capital_currency, OLD.established_on, OLD.status, OLD.status_date,
      OLD.business_scope, OLD.industry_code, OLD.division_code, OLD.address, OLD.point,
      OLD.registration_authority, OLD.parent_entity_id, OLD.parent_relation, OLD.asset_band, OLD.total_assets,
      OLD.annual_revenue, OLD.version, OLD.valid_from, OLD.updated_at, OLD.source_dept, OLD.source_batch, now());
  IF TG_OP = 'UPDATE' THEN
    NEW.version := OLD.version + 1;
    NEW.valid_from := now();
    NEW.updated_at := now();
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
--> statement-breakpoint
-- As in 0004, with the changed fields read through gb_comparable: an encrypted column is reported (under
-- its own name) when its blind index changed, and a re-encryption logs nothing.
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
    INSERT INTO change_log (registry, record_type, record_key, action, version, division_code, changed_fields,
                            source_dept, batch)
    SELECT 'legal-entity', 'entity', n.uscc, c.action, n.version, n.division_code, c.fields, n.source_dept,
           n.source_batch
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
-- As in 0004, except that a re-encryption of shareholdings logs nothing.
CREATE OR REPLACE FUNCTION gb_shareholdings_log_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND gb_rekeying() THEN
    RETURN NULL;
  END IF;
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

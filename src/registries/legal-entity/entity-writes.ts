import type { ASSET_BANDS, ENTITY_STATUSES, QUALIFICATION_KINDS } from '../../../schema/legal-entity.ts';
import { parseDivisionCode, parseUscc } from '../../codes/index.ts';
import { atRest } from '../../crypto/at-rest.ts';
import type { Queryable } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import type { LegalForm } from './entity-store.ts';

/**
 * The write path of the legal-entity registry, shared by the generator, imports and tests. It validates
 * what a registration must satisfy and writes in batches (one statement per call); the history and the
 * change log are written by the database's triggers, so every write path logs the same way. ID numbers are
 * stored encrypted (src/crypto/at-rest.ts) and matched against persons by their blind index.
 */

export interface Source {
  dept: string;
  batch?: string | null;
}

export interface EntityInput {
  uscc: string;
  name: string;
  legalForm: LegalForm;
  /** The legal representative: a person id, or an ID number (resolved against the population registry),
   * with the name as registered (taken from the person when omitted). */
  legalRep?: { personId?: number | null; idNumber?: string | null; name?: string | null } | null;
  registeredCapital?: string | number | null;
  capitalCurrency?: string;
  establishedOn: string;
  status?: (typeof ENTITY_STATUSES)[number];
  statusDate?: string | null;
  businessScope?: string | null;
  industryCode?: string | null;
  divisionCode: string;
  address?: string | null;
  /** [longitude, latitude], CGCS2000. */
  point?: readonly [number, number] | null;
  registrationAuthority: string;
  parentEntityId?: number | null;
  parentRelation?: 'branch' | 'subordinate' | null;
  assetBand?: (typeof ASSET_BANDS)[number] | null;
  totalAssets?: string | number | null;
  annualRevenue?: string | number | null;
}

export interface WriteOptions {
  /**
   * Accept a USCC whose final check character is wrong, flagged `uscc_status = 'invalid'`: for loading
   * legacy records as they are (and for injecting defects into synthetic data). Off by default: a new
   * registration with a bad code is refused with INVALID_USCC.
   */
  acceptDefects?: boolean;
}

function usccFields(uscc: string, index: number, options: WriteOptions) {
  const parsed = parseUscc(uscc);
  if (parsed.ok) {
    return {
      uscc: parsed.value.uscc,
      uscc_status: parsed.value.pilotException ? 'pilot_exception' : 'valid',
      registration_dept: parsed.value.registrationDept,
      category: parsed.value.category,
    };
  }
  const code = uscc.trim().toUpperCase();
  if (!options.acceptDefects || code.length !== 18) {
    throw errors.invalidUscc(`entities[${index}].uscc`, uscc, parsed.message);
  }
  return { uscc: code, uscc_status: 'invalid', registration_dept: code[0]!, category: code[1]! };
}

/** Registers entities; returns their ids in input order. The change log gets one 'registered' row each. */
export async function insertEntities(
  db: Queryable,
  inputs: readonly EntityInput[],
  source: Source,
  options: WriteOptions = {},
): Promise<number[]> {
  if (inputs.length === 0) return [];
  const codec = await atRest(db);
  const records = inputs.map((e, i) => {
    const division = parseDivisionCode(e.divisionCode);
    if (!division.ok)
      throw errors.invalidDivisionCode(`entities[${i}].divisionCode`, e.divisionCode, division.message);
    return {
      ord: i,
      ...usccFields(e.uscc, i, options),
      name: e.name,
      legal_form: e.legalForm,
      legal_rep_person_id: e.legalRep?.personId ?? null,
      legal_rep_id_number: codec.encodeValue('entities', 'legal_rep_id_number', e.legalRep?.idNumber),
      legal_rep_id_number_bidx: codec.blindIndexFor('entities', 'legal_rep_id_number', e.legalRep?.idNumber),
      legal_rep_name: e.legalRep?.name ?? null,
      registered_capital:
        e.registeredCapital === null || e.registeredCapital === undefined
          ? null
          : String(e.registeredCapital),
      capital_currency: e.capitalCurrency ?? 'CNY',
      established_on: e.establishedOn,
      status: e.status ?? 'active',
      status_date: e.statusDate ?? e.establishedOn,
      business_scope: e.businessScope ?? null,
      industry_code: e.industryCode ?? null,
      division_code: e.divisionCode,
      address: e.address ?? null,
      lon: e.point?.[0] ?? null,
      lat: e.point?.[1] ?? null,
      registration_authority: e.registrationAuthority,
      parent_entity_id: e.parentEntityId ?? null,
      parent_relation: e.parentRelation ?? (e.parentEntityId ? 'branch' : null),
      asset_band: e.assetBand ?? null,
      total_assets: e.totalAssets === null || e.totalAssets === undefined ? null : String(e.totalAssets),
      annual_revenue:
        e.annualRevenue === null || e.annualRevenue === undefined ? null : String(e.annualRevenue),
    };
  });
  // The representative resolves against the population registry: by id, else by ID number; the name as
  // registered wins over the person's current name. The ID number (ciphertext and blind index together)
  // is the one given, else the person's.
  const inserted = await db.query<{ id: number; uscc: string }>(
    `INSERT INTO entities (uscc, uscc_status, name, registration_dept, category, legal_form, legal_rep_person_id,
        legal_rep_name, legal_rep_id_number, legal_rep_id_number_bidx, registered_capital, capital_currency,
        established_on, status, status_date, business_scope, industry_code, division_code, address, point,
        registration_authority, parent_entity_id, parent_relation, asset_band, total_assets, annual_revenue,
        source_dept, source_batch)
     SELECT r.uscc, r.uscc_status, r.name, r.registration_dept, r.category, r.legal_form,
            coalesce(r.legal_rep_person_id, p2.id), coalesce(r.legal_rep_name, p1.name, p2.name),
            CASE WHEN r.legal_rep_id_number_bidx IS NULL THEN p1.id_number ELSE r.legal_rep_id_number END,
            coalesce(r.legal_rep_id_number_bidx, p1.id_number_bidx), r.registered_capital, r.capital_currency,
            r.established_on, r.status, r.status_date, r.business_scope, r.industry_code, r.division_code,
            r.address, CASE WHEN r.lon IS NULL THEN NULL ELSE ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4490) END,
            r.registration_authority, r.parent_entity_id, r.parent_relation, r.asset_band, r.total_assets,
            r.annual_revenue, $2, $3
       FROM jsonb_to_recordset($1::jsonb) AS r(ord int, uscc text, uscc_status text, name text,
            registration_dept text, category text, legal_form text, legal_rep_person_id bigint,
            legal_rep_id_number text, legal_rep_id_number_bidx text, legal_rep_name text, registered_capital numeric, capital_currency text,
            established_on date, status text, status_date date, business_scope text, industry_code text,
            division_code text, address text, lon float8, lat float8, registration_authority text,
            parent_entity_id bigint, parent_relation text, asset_band text, total_assets numeric,
            annual_revenue numeric)
       LEFT JOIN persons p1 ON p1.id = r.legal_rep_person_id
       LEFT JOIN persons p2 ON r.legal_rep_person_id IS NULL AND p2.id_number_bidx = r.legal_rep_id_number_bidx
      ORDER BY r.ord
     RETURNING id, uscc`,
    [JSON.stringify(records), source.dept, source.batch ?? null],
  );
  const ids = new Map(inserted.map((r) => [r.uscc, Number(r.id)]));
  return records.map((r) => ids.get(r.uscc)!);
}

/** Fields of an entity a later registration act may change. */
export type EntityPatch = Partial<
  Pick<
    EntityInput,
    | 'name'
    | 'legalForm'
    | 'registeredCapital'
    | 'capitalCurrency'
    | 'status'
    | 'statusDate'
    | 'businessScope'
    | 'industryCode'
    | 'divisionCode'
    | 'address'
    | 'point'
    | 'registrationAuthority'
    | 'parentEntityId'
    | 'parentRelation'
    | 'assetBand'
    | 'totalAssets'
    | 'annualRevenue'
  >
> & { legalRep?: { personId?: number | null; idNumber?: string | null; name?: string | null } };

const PATCH_COLUMNS: Record<string, string> = {
  name: 'name',
  legalForm: 'legal_form',
  registeredCapital: 'registered_capital',
  capitalCurrency: 'capital_currency',
  status: 'status',
  statusDate: 'status_date',
  businessScope: 'business_scope',
  industryCode: 'industry_code',
  divisionCode: 'division_code',
  address: 'address',
  registrationAuthority: 'registration_authority',
  parentEntityId: 'parent_entity_id',
  parentRelation: 'parent_relation',
  assetBand: 'asset_band',
  totalAssets: 'total_assets',
  annualRevenue: 'annual_revenue',
};

/**
 * Changes one entity (by USCC); returns its new version, or null when no entity has the code. A name
 * change keeps the old name as a former name. The trigger writes history and the change log: a status
 * change, a legal-representative change and other changes are logged as separate actions.
 */
export async function updateEntity(
  db: Queryable,
  uscc: string,
  patch: EntityPatch,
  source: Source,
  on: string = new Date().toISOString().slice(0, 10),
): Promise<number | null> {
  const sets: string[] = [];
  const params: unknown[] = [uscc.trim().toUpperCase(), source.dept, source.batch ?? null];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    const value = (patch as Record<string, unknown>)[key];
    if (value !== undefined) sets.push(`${column} = ${param(value === null ? null : String(value))}`);
  }
  if (patch.status !== undefined && patch.statusDate === undefined) sets.push(`status_date = ${param(on)}`);
  if (patch.point !== undefined) {
    sets.push(
      patch.point === null
        ? 'point = NULL'
        : `point = ST_SetSRID(ST_MakePoint(${param(patch.point[0])}::float8, ${param(patch.point[1])}::float8), 4490)`,
    );
  }
  if (patch.legalRep !== undefined) {
    const rep = patch.legalRep;
    const codec = await atRest(db);
    const personId = param(rep.personId ?? null);
    const idNumber = param(codec.encodeValue('entities', 'legal_rep_id_number', rep.idNumber));
    const idKey = param(codec.blindIndexFor('entities', 'legal_rep_id_number', rep.idNumber));
    const name = param(rep.name ?? null);
    // Resolve the person once; the registered name and ID number default to the person's. Whether the
    // number changed is the trigger's business (it compares blind indexes, not ciphertexts).
    sets.push(
      `(legal_rep_person_id, legal_rep_id_number, legal_rep_id_number_bidx, legal_rep_name) = (
         SELECT coalesce(${personId}::bigint, p2.id),
                CASE WHEN ${idKey}::text IS NULL THEN p1.id_number ELSE ${idNumber}::text END,
                coalesce(${idKey}::text, p1.id_number_bidx), coalesce(${name}::text, p1.name, p2.name)
           FROM (SELECT 1) one
           LEFT JOIN persons p1 ON p1.id = ${personId}::bigint
           LEFT JOIN persons p2 ON ${personId}::bigint IS NULL AND p2.id_number_bidx = ${idKey}::text)`,
    );
  }
  if (sets.length === 0) throw errors.invalidArgument('patch', 'changes nothing');
  const [row] = await db.query<{ version: number; old_name: string; name: string; id: number }>(
    `WITH old AS (SELECT id, name FROM entities WHERE uscc = $1 FOR UPDATE)
     UPDATE entities e SET ${sets.join(', ')}, source_dept = $2, source_batch = $3
       FROM old WHERE e.id = old.id
     RETURNING e.id, e.version, e.name, old.name AS old_name`,
    params,
  );
  if (!row) {
    const [exists] = await db.query<{ version: number }>('SELECT version FROM entities WHERE uscc = $1', [
      params[0],
    ]);
    return exists ? Number(exists.version) : null; // a no-op change leaves the version as it was
  }
  if (row.old_name !== row.name) {
    await db.query(
      `INSERT INTO entity_former_names (entity_id, name, valid_from, valid_to, source_dept, source_batch)
       SELECT $1, $2, (SELECT max(valid_to) FROM entity_former_names WHERE entity_id = $1), $3::date, $4, $5`,
      [row.id, row.old_name, on, source.dept, source.batch ?? null],
    );
  }
  return Number(row.version);
}

export type HolderInput =
  | { kind: 'person'; personId?: number | null; idNumber?: string | null; name?: string | null }
  | { kind: 'entity'; entityId: number; name?: string | null }
  | { kind: 'other'; name: string };

export interface ShareholdingInput {
  entityId: number;
  holder: HolderInput;
  /** Percent of the registered capital, (0, 100]. */
  percentage: number | string;
  subscribedAmount?: number | string | null;
  currency?: string;
  acquiredOn: string;
  endedOn?: string | null;
}

/** Adds shareholdings; names default to the person's or entity's. Returns ids in input order. */
export async function insertShareholdings(
  db: Queryable,
  inputs: readonly ShareholdingInput[],
  source: Source,
): Promise<number[]> {
  if (inputs.length === 0) return [];
  const codec = await atRest(db);
  const records = inputs.map((s, i) => {
    const pct = Number(s.percentage);
    if (!(pct > 0 && pct <= 100)) {
      throw errors.invalidArgument(
        `shareholdings[${i}].percentage`,
        `must be in (0, 100], got ${s.percentage}`,
      );
    }
    const h = s.holder;
    return {
      ord: i,
      entity_id: s.entityId,
      kind: h.kind,
      person_id: h.kind === 'person' ? (h.personId ?? null) : null,
      id_number:
        h.kind === 'person' ? codec.encodeValue('shareholdings', 'shareholder_id_number', h.idNumber) : null,
      id_number_bidx:
        h.kind === 'person'
          ? codec.blindIndexFor('shareholdings', 'shareholder_id_number', h.idNumber)
          : null,
      holder_entity_id: h.kind === 'entity' ? h.entityId : null,
      name: h.name ?? null,
      percentage: String(s.percentage),
      amount:
        s.subscribedAmount === null || s.subscribedAmount === undefined ? null : String(s.subscribedAmount),
      currency: s.currency ?? 'CNY',
      acquired_on: s.acquiredOn,
      ended_on: s.endedOn ?? null,
    };
  });
  const inserted = await db.query<{ id: number }>(
    `INSERT INTO shareholdings (entity_id, shareholder_kind, shareholder_person_id, shareholder_entity_id,
        shareholder_name, shareholder_id_number, shareholder_id_number_bidx, subscribed_amount, currency,
        percentage, acquired_on, ended_on, source_dept, source_batch)
     SELECT r.entity_id, r.kind, CASE WHEN r.kind = 'person' THEN coalesce(r.person_id, p2.id) END,
            r.holder_entity_id, coalesce(r.name, p1.name, p2.name, h.name, '(unknown)'),
            CASE WHEN r.kind <> 'person' THEN NULL WHEN r.id_number_bidx IS NULL THEN p1.id_number
                 ELSE r.id_number END,
            CASE WHEN r.kind = 'person' THEN coalesce(r.id_number_bidx, p1.id_number_bidx) END,
            r.amount, r.currency, r.percentage, r.acquired_on, r.ended_on, $2, $3
       FROM jsonb_to_recordset($1::jsonb) AS r(ord int, entity_id bigint, kind text, person_id bigint,
            id_number text, id_number_bidx text, holder_entity_id bigint, name text, percentage numeric, amount numeric,
            currency text, acquired_on date, ended_on date)
       LEFT JOIN persons p1 ON r.kind = 'person' AND p1.id = r.person_id
       LEFT JOIN persons p2 ON r.kind = 'person' AND r.person_id IS NULL AND p2.id_number_bidx = r.id_number_bidx
       LEFT JOIN entities h ON h.id = r.holder_entity_id
      ORDER BY r.ord
     RETURNING id`,
    [JSON.stringify(records), source.dept, source.batch ?? null],
  );
  return inserted.map((r) => Number(r.id));
}

/** Ends holdings (a transfer or a cancellation); logged as a shareholding change of each entity. */
export async function endShareholdings(
  db: Queryable,
  ids: readonly number[],
  endedOn: string,
  source: Source,
): Promise<number> {
  const ended = await db.query<{ id: number }>(
    `UPDATE shareholdings SET ended_on = $2::date, updated_at = now(), source_dept = $3, source_batch = $4
      WHERE id = ANY($1::bigint[]) AND ended_on IS NULL RETURNING id`,
    [ids, endedOn, source.dept, source.batch ?? null],
  );
  return ended.length;
}

export interface FormerNameInput {
  entityId: number;
  name: string;
  validFrom?: string | null;
  validTo: string;
}

export async function insertFormerNames(
  db: Queryable,
  inputs: readonly FormerNameInput[],
  source: Source,
): Promise<void> {
  if (inputs.length === 0) return;
  await db.query(
    `INSERT INTO entity_former_names (entity_id, name, valid_from, valid_to, source_dept, source_batch)
     SELECT r."entityId", r.name, r."validFrom", r."validTo", $2, $3
       FROM jsonb_to_recordset($1::jsonb) AS r("entityId" bigint, name text, "validFrom" date, "validTo" date)`,
    [JSON.stringify(inputs), source.dept, source.batch ?? null],
  );
}

export interface QualificationInput {
  entityId: number;
  kind: (typeof QUALIFICATION_KINDS)[number];
  number: string;
  type: string;
  title?: string | null;
  status: 'valid' | 'expired' | 'revoked' | 'suspended' | 'pending';
  validFrom?: string | null;
  validTo?: string | null;
  issuingAuthority: string;
}

export async function insertQualifications(
  db: Queryable,
  inputs: readonly QualificationInput[],
  source: Source,
): Promise<void> {
  if (inputs.length === 0) return;
  await db.query(
    `INSERT INTO qualifications (entity_id, kind, number, type, title, status, valid_from, valid_to,
        issuing_authority, source_dept, source_batch)
     SELECT r."entityId", r.kind, r.number, r.type, r.title, r.status, r."validFrom", r."validTo",
            r."issuingAuthority", $2, $3
       FROM jsonb_to_recordset($1::jsonb) AS r("entityId" bigint, kind text, number text, type text, title text,
            status text, "validFrom" date, "validTo" date, "issuingAuthority" text)`,
    [JSON.stringify(inputs), source.dept, source.batch ?? null],
  );
}

export interface OnlineShopInput {
  platform: string;
  shopName: string;
  shopUrl: string;
  operator: { kind: 'entity'; entityId: number } | { kind: 'person'; personId: number };
  /** Taken from the operator (entity's or person's name) when omitted. */
  operatorName?: string | null;
  divisionCode: string;
  status: 'active' | 'suspended' | 'closed';
  openedOn?: string | null;
  closedOn?: string | null;
}

export async function insertOnlineShops(
  db: Queryable,
  inputs: readonly OnlineShopInput[],
  source: Source,
): Promise<void> {
  if (inputs.length === 0) return;
  const records = inputs.map((s) => ({
    platform: s.platform,
    shop_name: s.shopName,
    shop_url: s.shopUrl,
    kind: s.operator.kind,
    entity_id: s.operator.kind === 'entity' ? s.operator.entityId : null,
    person_id: s.operator.kind === 'person' ? s.operator.personId : null,
    name: s.operatorName ?? null,
    division_code: s.divisionCode,
    status: s.status,
    opened_on: s.openedOn ?? null,
    closed_on: s.closedOn ?? null,
  }));
  await db.query(
    `INSERT INTO online_shops (platform, shop_name, shop_url, operator_kind, operator_entity_id, operator_person_id,
        operator_name, division_code, status, opened_on, closed_on, source_dept, source_batch)
     SELECT r.platform, r.shop_name, r.shop_url, r.kind, r.entity_id, r.person_id,
            coalesce(r.name, e.name, p.name, '(unknown)'), r.division_code, r.status, r.opened_on, r.closed_on, $2, $3
       FROM jsonb_to_recordset($1::jsonb) AS r(platform text, shop_name text, shop_url text, kind text,
            entity_id bigint, person_id bigint, name text, division_code text, status text, opened_on date,
            closed_on date)
       LEFT JOIN entities e ON e.id = r.entity_id
       LEFT JOIN persons p ON p.id = r.person_id`,
    [JSON.stringify(records), source.dept, source.batch ?? null],
  );
}

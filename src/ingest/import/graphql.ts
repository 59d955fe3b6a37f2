import type { Dataset, FieldEntry } from '../../../schema/catalogue.ts';
import { dataDisputesDataset } from '../../../schema/imports.ts';
import { entitiesDataset } from '../../../schema/legal-entity.ts';
import { householdMembersDataset, personsDataset } from '../../../schema/population.ts';
import { inScope } from '../../access/principal.ts';
import { parseIdNumber, parseUscc } from '../../codes/index.ts';
import type { Geometry } from '../../db/index.ts';
import { errors, GovError } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { entityById, entityByUscc } from '../../registries/legal-entity/entity-store.ts';
import { personById, personByIdNumber } from '../../registries/population/person-store.ts';
import { ImportError } from './batches.ts';
import { type RejectRow, runImport } from './pipeline.ts';

/**
 * Corrections and disputes over GraphQL, for departments:
 *
 * - `correctPerson` / `correctEntity`: a department with a write grant on the dataset corrects one record
 *   of its jurisdiction. The correction is a one-row delivery through the import pipeline (the same
 *   validation, conflict policy, merge, history, lineage and change log), attributed to the department
 *   and the principal as a batch of format `graphql`, with the reason as its note; the request itself is
 *   audited like every request.
 * - `raiseDispute`: a consumer says a record is wrong; the dispute is routed to the department owning the
 *   dataset. `resolveDispute`: that department (or one of its line of business whose jurisdiction covers
 *   the record) accepts or rejects it with a resolution, optionally naming the correction that fixed it.
 */

const camel = (column: string) => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const forbidden = (message: string) => new GovError('FORBIDDEN', message);

/** The write grant a correction needs; the principal must act for a department. */
function requireWrite(ctx: GatewayContext, dataset: Dataset, field: string): string {
  const { principal } = ctx.access;
  const department = principal.department;
  if (!department) throw forbidden(`${field} needs a department's credentials`);
  if (!principal.grants.get(dataset.id)?.canWrite) {
    throw forbidden(`${field}: department ${department.code} has no write grant on ${dataset.id}`);
  }
  ctx.access.noteField(field, { kind: 'allow' });
  return department.code;
}

// --- corrections -----------------------------------------------------------------------------------------

const CorrectionStatus = builder.enumType('CorrectionStatus', {
  values: {
    APPLIED: { value: 'applied', description: 'The record changed: a new version' },
    UNCHANGED: { value: 'unchanged', description: 'The record already held these values' },
    REJECTED: { value: 'rejected', description: 'Refused: see rejects' },
  } as const,
});

interface CorrectionResult {
  status: 'applied' | 'unchanged' | 'rejected';
  batchId: string;
  rejects: RejectRow[];
  version: number | null;
}

const CorrectionRejectRef = builder.objectRef<RejectRow>('CorrectionReject');
CorrectionRejectRef.implement({
  description: 'Why a correction was refused, field by field',
  fields: (t) => ({
    field: t.string({ resolve: (r) => (r.field === '*' ? '*' : camel(r.field)) }),
    reason: t.exposeString('reason'),
  }),
});

const CorrectionResultRef = builder.objectRef<CorrectionResult>('CorrectionResult');
CorrectionResultRef.implement({
  description: 'The outcome of a correction: a batch of one row through the import pipeline',
  fields: (t) => ({
    status: t.field({ type: CorrectionStatus, resolve: (r) => r.status }),
    batchId: t.exposeString('batchId', { description: 'The correction’s batch (lineage, audit)' }),
    rejects: t.field({ type: [CorrectionRejectRef], resolve: (r) => r.rejects }),
    version: t.exposeInt('version', { nullable: true, description: 'The record’s version afterwards' }),
  }),
});

const PersonCorrection = builder.inputType('PersonCorrection', {
  description: 'Fields to correct; an omitted field is left as it is, null clears it',
  fields: (t) => ({
    name: t.string(),
    gender: t.string({ description: 'GB/T 2261.1: 1 or 2' }),
    birthDate: t.field({ type: 'Date' }),
    ethnicity: t.string(),
    nationality: t.string(),
    hukouDivisionCode: t.string(),
    hukouAddress: t.string(),
    residenceDivisionCode: t.string(),
    residenceAddress: t.string(),
    residencePoint: t.field({ type: 'GeoJSON' }),
    maritalStatus: t.string(),
    education: t.string(),
    phone: t.string(),
    status: t.string({ description: 'alive or deceased' }),
    deathDate: t.field({ type: 'Date' }),
    householdNumber: t.string(),
    householdRelation: t.string({
      description:
        'GB/T 4761 relation to the head of the household given by householdNumber (needs a write grant on ' +
        'population.household_members); required when the person joins a household they do not head',
    }),
  }),
});

const EntityCorrection = builder.inputType('EntityCorrection', {
  description: 'Fields to correct; an omitted field is left as it is, null clears it',
  fields: (t) => ({
    name: t.string(),
    legalForm: t.string(),
    legalRepIdNumber: t.string(),
    legalRepName: t.string(),
    registeredCapital: t.string({ description: 'Decimal, exact' }),
    capitalCurrency: t.string(),
    establishedOn: t.field({ type: 'Date' }),
    status: t.string({ description: 'active, revoked, cancelled or moved_out' }),
    statusDate: t.field({ type: 'Date' }),
    businessScope: t.string(),
    industryCode: t.string(),
    divisionCode: t.string(),
    address: t.string(),
    point: t.field({ type: 'GeoJSON' }),
    registrationAuthority: t.string(),
    parentUscc: t.string(),
    parentRelation: t.string(),
    assetBand: t.string(),
    totalAssets: t.string(),
    annualRevenue: t.string(),
  }),
});

/** Input fields (camelCase) → the registry's delivery record (snake_case); undefined fields are left out. */
function deliveryRecord(
  key: Record<string, string>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const record: Record<string, unknown> = { ...key };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    record[snake(field)] = value as string | Geometry | null;
  }
  return record;
}

async function correct(
  ctx: GatewayContext,
  registry: 'persons' | 'entities',
  record: Record<string, unknown>,
  reason: string,
  department: string,
  versionOf: () => Promise<number | null>,
): Promise<CorrectionResult> {
  if (!reason.trim()) throw errors.invalidArgument('reason', 'must say why the record is corrected');
  try {
    const report = await runImport(ctx.db, {
      registry,
      input: { kind: 'records', name: 'correction', records: [record] },
      sourceDept: department,
      submittedBy: ctx.access.principal.id,
      note: reason,
      rejectsPath: null,
    });
    return {
      status: report.rejected > 0 ? 'rejected' : report.changed > 0 ? 'applied' : 'unchanged',
      batchId: report.batchId,
      rejects: report.rejects,
      version: await versionOf(),
    };
  } catch (error) {
    if (error instanceof ImportError) throw errors.invalidArgument('changes', error.message);
    throw error;
  }
}

builder.mutationField('correctPerson', (t) =>
  t.field({
    type: CorrectionResultRef,
    description:
      'Corrects a person of your jurisdiction (needs a write grant on population.persons). Identity and ' +
      'registration fields may be corrected only by public security (the catalogue’s authoritative source).',
    args: {
      idNumber: t.arg.string({ required: true }),
      changes: t.arg({ type: PersonCorrection, required: true }),
      reason: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const department = requireWrite(ctx, personsDataset as unknown as Dataset, 'Mutation.correctPerson');
      if (args.changes.householdRelation != null) {
        requireWrite(ctx, householdMembersDataset as unknown as Dataset, 'Mutation.correctPerson');
      }
      const parsed = parseIdNumber(args.idNumber);
      if (!parsed.ok) throw errors.invalidIdNumber('idNumber', parsed.message);
      const idNumber = parsed.value.idNumber;
      const person = await personByIdNumber(ctx).load(idNumber);
      if (!person) throw errors.notFound(`The person with ID number argument 'idNumber'`);
      if (
        !ctx.access.inScope(person.hukouDivisionCode) &&
        !ctx.access.inScope(person.residenceDivisionCode)
      ) {
        throw errors.outOfJurisdiction(`The person with ID number argument 'idNumber'`);
      }
      ctx.access.noteSubject(`person:${person.id}`);
      return correct(
        ctx,
        'persons',
        deliveryRecord({ id_number: idNumber }, args.changes as Record<string, unknown>),
        args.reason,
        department,
        async () => {
          const [row] = await ctx.db.query<{ version: number }>(`SELECT version FROM persons WHERE id = $1`, [
            person.id,
          ]);
          return row ? Number(row.version) : null;
        },
      );
    },
  }),
);

builder.mutationField('correctEntity', (t) =>
  t.field({
    type: CorrectionResultRef,
    description:
      'Corrects an entity of your jurisdiction (needs a write grant on legal_entity.entities). Registration ' +
      'fields may be corrected only by market regulation (the catalogue’s authoritative source).',
    args: {
      uscc: t.arg.string({ required: true }),
      changes: t.arg({ type: EntityCorrection, required: true }),
      reason: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const department = requireWrite(ctx, entitiesDataset as unknown as Dataset, 'Mutation.correctEntity');
      const parsed = parseUscc(args.uscc);
      if (!parsed.ok) throw errors.invalidUscc('uscc', args.uscc, parsed.message);
      const entity = await entityByUscc(ctx).load(parsed.value.uscc);
      if (!entity) throw errors.notFound(`The entity with USCC argument 'uscc'`);
      if (!ctx.access.inScope(entity.divisionCode)) {
        throw errors.outOfJurisdiction(`The entity with USCC argument 'uscc'`);
      }
      return correct(
        ctx,
        'entities',
        deliveryRecord({ uscc: parsed.value.uscc }, args.changes as Record<string, unknown>),
        args.reason,
        department,
        async () => {
          const [row] = await ctx.db.query<{ version: number }>(
            `SELECT version FROM entities WHERE id = $1`,
            [entity.id],
          );
          return row ? Number(row.version) : null;
        },
      );
    },
  }),
);

// --- disputes --------------------------------------------------------------------------------------------

interface DisputeRow {
  id: number;
  dataset: string;
  recordType: string;
  recordId: number;
  field: string | null;
  reason: string;
  divisionCode: string | null;
  raisedByDept: string;
  raisedBy: string;
  raisedAt: Date;
  ownerDept: string;
  status: 'open' | 'accepted' | 'rejected';
  resolvedByDept: string | null;
  resolvedBy: string | null;
  resolvedAt: Date | null;
  resolution: string | null;
  correctionBatch: string | null;
}

const DISPUTE_COLUMNS = `d.id, d.dataset, d.record_type AS "recordType", d.record_id AS "recordId", d.field, d.reason,
  d.division_code AS "divisionCode", d.raised_by_dept AS "raisedByDept", d.raised_by AS "raisedBy",
  d.raised_at AS "raisedAt", d.owner_dept AS "ownerDept", d.status, d.resolved_by_dept AS "resolvedByDept",
  d.resolved_by AS "resolvedBy", d.resolved_at AS "resolvedAt", d.resolution,
  d.correction_batch AS "correctionBatch"`;

const DisputeTarget = builder.enumType('DisputeTarget', {
  values: {
    PERSON: { value: 'person', description: 'A person, by ID number' },
    ENTITY: { value: 'entity', description: 'An entity, by USCC' },
  } as const,
});

const DisputeStatus = builder.enumType('DisputeStatus', {
  values: {
    OPEN: { value: 'open', description: 'Raised, waiting for the owning department' },
    ACCEPTED: {
      value: 'accepted',
      description: 'The owner agreed and corrected (or will correct) the record',
    },
    REJECTED: { value: 'rejected', description: 'The owner confirmed the record as it is' },
  } as const,
});

const DisputeRole = builder.enumType('DisputeRole', {
  values: {
    RAISED: { value: 'raised', description: 'Disputes your department raised' },
    ROUTED: { value: 'routed', description: 'Disputes routed to your department to resolve' },
  } as const,
});

const DataDisputeRef = builder.objectRef<DisputeRow>('DataDispute');
DataDisputeRef.implement({
  description: 'A data dispute (数据异议) on a record, routed to the department owning the dataset',
  dataset: dataDisputesDataset,
  fields: (t) => ({
    id: t.exposeID('id'),
    dataset: t.exposeString('dataset'),
    recordType: t.exposeString('recordType'),
    recordId: t.string({ description: 'Internal record key', resolve: (d) => String(d.recordId) }),
    field: t.exposeString('field', { nullable: true }),
    reason: t.exposeString('reason'),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    raisedByDept: t.exposeString('raisedByDept'),
    raisedAt: t.expose('raisedAt', { type: 'DateTime' }),
    ownerDept: t.exposeString('ownerDept'),
    status: t.field({ type: DisputeStatus, resolve: (d) => d.status }),
    resolvedByDept: t.exposeString('resolvedByDept', { nullable: true }),
    resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
    resolution: t.exposeString('resolution', { nullable: true }),
    correctionBatch: t.exposeString('correctionBatch', { nullable: true }),
  }),
});

/** An internal id from digits or a Relay global id of `type`. */
function internalId(value: string, type: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const [name, id] = decoded.split(':');
  if (name === type && /^\d+$/.test(id ?? '')) return Number(id);
  throw errors.invalidArgument('recordId', `is not the id of a ${type}`);
}

/** The line of business of the owning department (its `kind`), for routing within the line. */
async function ownerKind(ctx: GatewayContext, ownerDept: string): Promise<string | null> {
  const [row] = await ctx.db.query<{ kind: string }>(`SELECT kind FROM departments WHERE code = $1`, [
    ownerDept,
  ]);
  return row?.kind ?? null;
}

/** May the caller's department resolve a dispute routed to `ownerDept` on a record in `divisionCode`? */
async function mayResolve(ctx: GatewayContext, dispute: Pick<DisputeRow, 'ownerDept' | 'divisionCode'>) {
  const department = ctx.access.principal.department;
  if (!department) return false;
  if (department.code === dispute.ownerDept) return true;
  return (
    department.kind === (await ownerKind(ctx, dispute.ownerDept)) &&
    inScope(ctx.access.principal, dispute.divisionCode)
  );
}

builder.mutationField('raiseDispute', (t) =>
  t.field({
    type: DataDisputeRef,
    description:
      'Disputes a record you can read (the plan’s quick correction mechanism): routed to the department that ' +
      'owns its dataset, which accepts or rejects it.',
    args: {
      target: t.arg({ type: DisputeTarget, required: true }),
      key: t.arg.string({
        description:
          'The person’s ID number (needs the right to read ID numbers in clear) or the entity’s USCC',
      }),
      recordId: t.arg.id({
        description:
          'Or the record’s id: its global id (Person.id, Entity.id) or the change feed’s recordKey',
      }),
      field: t.arg.string({
        description: 'The disputed field (its GraphQL name); omit for the whole record',
      }),
      reason: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const department = ctx.access.principal.department;
      if (!department) throw forbidden(`Mutation.raiseDispute needs a department's credentials`);
      if (!args.reason.trim()) throw errors.invalidArgument('reason', 'must say what is wrong');
      const dataset = (args.target === 'person' ? personsDataset : entitiesDataset) as unknown as Dataset;
      ctx.access.requireDataset(dataset);
      if (args.field && !(args.field in (dataset.fields as Record<string, FieldEntry>))) {
        throw errors.invalidArgument('field', `names no field of ${dataset.id}`);
      }
      if (!args.key === !args.recordId)
        throw errors.invalidArgument('key', 'or recordId must be given (one of them)');
      let recordId: number;
      let divisionCode: string | null;
      if (args.recordId) {
        const id = internalId(String(args.recordId), args.target === 'person' ? 'Person' : 'Entity');
        const record =
          args.target === 'person'
            ? await personById(ctx)
                .load(id)
                .then((p) => p && { division: p.residenceDivisionCode ?? p.hukouDivisionCode })
            : await entityById(ctx)
                .load(id)
                .then((e) => e && { division: e.divisionCode });
        // Loaders are scoped: a record outside the jurisdiction is not found.
        if (!record) throw errors.notFound(`The record with argument 'recordId'`);
        recordId = id;
        divisionCode = record.division;
      } else if (args.target === 'person') {
        // Looking a person up by ID number reveals it: the same right as the person query.
        ctx.access.requireClear(dataset, 'idNumber', 'key');
        const parsed = parseIdNumber(args.key!);
        if (!parsed.ok) throw errors.invalidIdNumber('key', parsed.message);
        const person = await personByIdNumber(ctx).load(parsed.value.idNumber);
        if (!person) throw errors.notFound(`The person with ID number argument 'key'`);
        if (
          !ctx.access.inScope(person.hukouDivisionCode) &&
          !ctx.access.inScope(person.residenceDivisionCode)
        ) {
          throw errors.outOfJurisdiction(`The person with ID number argument 'key'`);
        }
        recordId = Number(person.id);
        divisionCode = person.residenceDivisionCode ?? person.hukouDivisionCode;
      } else {
        const parsed = parseUscc(args.key!);
        if (!parsed.ok) throw errors.invalidUscc('key', args.key!, parsed.message);
        const entity = await entityByUscc(ctx).load(parsed.value.uscc);
        if (!entity) throw errors.notFound(`The entity with USCC argument 'key'`);
        if (!ctx.access.inScope(entity.divisionCode)) {
          throw errors.outOfJurisdiction(`The entity with USCC argument 'key'`);
        }
        recordId = Number(entity.id);
        divisionCode = entity.divisionCode;
      }
      const [row] = await ctx.db.query<DisputeRow>(
        `INSERT INTO data_disputes AS d (dataset, record_type, record_id, field, reason, division_code, raised_by_dept,
                                         raised_by, owner_dept)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${DISPUTE_COLUMNS}`,
        [
          dataset.id,
          args.target,
          recordId,
          args.field ?? null,
          args.reason.trim(),
          divisionCode,
          department.code,
          ctx.access.principal.id,
          dataset.owner,
        ],
      );
      return row!;
    },
  }),
);

builder.mutationField('resolveDispute', (t) =>
  t.field({
    type: DataDisputeRef,
    description:
      'Resolves an open dispute routed to your department (the owner of the dataset, or a department of its ' +
      'line of business whose jurisdiction covers the record).',
    args: {
      id: t.arg.id({ required: true }),
      status: t.arg({ type: DisputeStatus, required: true }),
      resolution: t.arg.string({ required: true }),
      correctionBatch: t.arg.string({ description: 'The correction that fixed the record (a batch id)' }),
    },
    resolve: async (_root, args, ctx) => {
      if (args.status === 'open') throw errors.invalidArgument('status', 'must be ACCEPTED or REJECTED');
      if (!args.resolution.trim()) throw errors.invalidArgument('resolution', 'must say how it was resolved');
      const id = Number(args.id);
      if (!Number.isSafeInteger(id)) throw errors.invalidArgument('id', 'is not a dispute id');
      const [dispute] = await ctx.db.query<DisputeRow>(
        `SELECT ${DISPUTE_COLUMNS} FROM data_disputes d WHERE d.id = $1`,
        [id],
      );
      if (!dispute || !(await mayResolve(ctx, dispute))) {
        if (dispute && dispute.raisedByDept === ctx.access.principal.department?.code) {
          throw forbidden(`dispute ${id} is routed to ${dispute.ownerDept}, not to your department`);
        }
        throw errors.notFound(`Dispute ${args.id}`);
      }
      if (dispute.status !== 'open')
        throw errors.invalidArgument('id', `names a dispute already ${dispute.status}`);
      if (args.correctionBatch) {
        const [batch] = await ctx.db.query(
          `SELECT 1 FROM import_batches WHERE id = $1 AND status = 'merged'`,
          [args.correctionBatch],
        );
        if (!batch) throw errors.invalidArgument('correctionBatch', 'names no merged batch');
      }
      const [row] = await ctx.db.query<DisputeRow>(
        `UPDATE data_disputes d SET status = $2, resolution = $3, resolved_by_dept = $4, resolved_by = $5,
                resolved_at = now(), correction_batch = $6
          WHERE d.id = $1 AND d.status = 'open' RETURNING ${DISPUTE_COLUMNS}`,
        [
          id,
          args.status,
          args.resolution.trim(),
          ctx.access.principal.department!.code,
          ctx.access.principal.id,
          args.correctionBatch ?? null,
        ],
      );
      if (!row) throw errors.invalidArgument('id', 'names a dispute resolved meanwhile');
      return row;
    },
  }),
);

builder.queryField('disputes', (t) =>
  t.connection({
    type: DataDisputeRef,
    description: 'Disputes your department raised, or that are routed to it, newest first',
    args: {
      role: t.arg({ type: DisputeRole, required: true }),
      status: t.arg({ type: DisputeStatus }),
    },
    resolve: async (_root, args, ctx) => {
      const department = ctx.access.principal.department;
      if (!department) throw forbidden(`Query.disputes needs a department's credentials`);
      const first = pageSize(args, ctx.config.maxPageSize);
      const before = args.after ? decodeCursor(args.after, 'after', 'dsp') : null;
      const params: unknown[] = [department.code, first + 1];
      const conditions: string[] = [];
      if (args.role === 'raised') conditions.push('d.raised_by_dept = $1');
      else {
        // Routed to the department, or to the owner of its line of business within its jurisdiction.
        params.push(department.kind);
        const kind = params.length;
        const scope = ctx.access.principal.scope;
        let within = '';
        if (scope) {
          params.push(scope.lo, scope.hi);
          within = `AND d.division_code BETWEEN $${params.length - 1} AND $${params.length}`;
        }
        conditions.push(
          `(d.owner_dept = $1 OR (d.owner_dept IN (SELECT code FROM departments WHERE kind = $${kind}) ${within}))`,
        );
      }
      if (args.status) {
        params.push(args.status);
        conditions.push(`d.status = $${params.length}`);
      }
      if (before !== null) {
        params.push(before);
        conditions.push(`d.id < $${params.length}`);
      }
      const found = await ctx.db.query<DisputeRow>(
        `SELECT ${DISPUTE_COLUMNS} FROM data_disputes d WHERE ${conditions.join(' AND ')} ORDER BY d.id DESC LIMIT $2`,
        params,
      );
      const hasNextPage = found.length > first;
      const nodes = hasNextPage ? found.slice(0, first) : found;
      return {
        edges: nodes.map((node) => ({ cursor: encodeCursor('dsp', Number(node.id)), node })),
        pageInfo: {
          hasNextPage,
          hasPreviousPage: before !== null,
          startCursor: nodes[0] ? encodeCursor('dsp', Number(nodes[0].id)) : null,
          endCursor: nodes.at(-1) ? encodeCursor('dsp', Number(nodes.at(-1)!.id)) : null,
        },
      };
    },
  }),
);

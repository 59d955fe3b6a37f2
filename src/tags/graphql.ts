import { decodeGlobalID } from '@pothos/plugin-relay';
import { LEVELS } from '../../schema/catalogue.ts';
import type { TagRegistry } from '../../schema/tags.ts';
import { groupByKey } from '../db/index.ts';
import { errors, GovError } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import type { GatewayContext } from '../gateway/context.ts';
import { EntityRef } from '../registries/legal-entity/entity-types.ts';
import { HouseholdRef, PersonRef } from '../registries/population/person-types.ts';
import { suppress } from '../registries/population/statistics.ts';
import { requireDivision } from '../registries/spatial/division-directory.ts';
import { FeatureRef } from '../registries/spatial/layer-queries.ts';
import { decideTag, requireTagClear, tagEntry, tagPath } from './access.ts';
import { type ManualTag, TAGS, type TagDefinition, tagByCode } from './definitions.ts';
import { REGISTRIES } from './registries.ts';
import {
  ASSIGNMENT_COLUMNS,
  type AssignmentRow,
  assignTag,
  endTag,
  type RecomputeResult,
  recomputeTags,
  TagError,
} from './store.ts';

/**
 * Tags in GraphQL: the definitions (`tags`), a record's tags (`Person.tags`, `Household.tags`,
 * `Entity.tags`, `Feature.tags`), counts per division (`tagCounts`), manual assignments and the steward's
 * recompute. Each tag is decided by its own classification (src/tags/access.ts): a denied tag is left out
 * of a record's list silently (an error would itself say that the record carries it), a masked one shows
 * as '***' without provenance; every decision is tallied for the audit.
 */

const TagRegistryEnum = builder.enumType('TagRegistry', {
  values: {
    PERSON: { value: 'person' },
    HOUSEHOLD: { value: 'household' },
    ENTITY: { value: 'entity' },
    FEATURE: { value: 'feature' },
  } as const,
});

const TagKindEnum = builder.enumType('TagKind', {
  values: {
    MANUAL: { value: 'manual', description: 'Assigned by a department with a reason' },
    RULE: { value: 'rule', description: 'Computed by a set-based predicate over registry fields' },
  } as const,
});

interface TagState {
  code: string;
  ruleVersion: string | null;
  recomputedAt: string | null;
  recomputedAsOf: string | null;
}

function tagStates(ctx: GatewayContext) {
  return ctx.loaders.get<string, TagState | null>('tags.state', async (codes) => {
    const found = await ctx.db.query<TagState>(
      `SELECT code, rule_version AS "ruleVersion",
              to_char(recomputed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "recomputedAt",
              recomputed_as_of::text AS "recomputedAsOf"
         FROM tags WHERE code = ANY($1::text[])`,
      [[...codes]],
    );
    const byCode = new Map(found.map((t) => [t.code, t]));
    return codes.map((c) => byCode.get(c) ?? null);
  });
}

const TagRef = builder.objectRef<TagDefinition>('Tag');
TagRef.implement({
  description:
    'A tag definition: what it means, whose it is, how it is classified, and for rule tags the predicate version',
  fields: (t) => ({
    code: t.exposeString('code', { nullable: false }),
    name: t.exposeString('name', { nullable: false }),
    description: t.exposeString('description', { nullable: false }),
    registry: t.field({ type: TagRegistryEnum, nullable: false, resolve: (tag) => tag.registry }),
    owner: t.exposeString('owner', { nullable: false, description: 'Department responsible for the tag' }),
    level: t.exposeString('level', {
      nullable: false,
      description: 'Classification of the tag: public, internal, restricted or sensitive',
    }),
    share: t.exposeString('share', { nullable: false, description: 'unconditional, conditional or none' }),
    kind: t.field({ type: TagKindEnum, nullable: false, resolve: (tag) => tag.kind }),
    version: t.string({
      nullable: true,
      description: 'Rule tags: the version of the declared predicate',
      resolve: (tag) => (tag.kind === 'rule' ? tag.version : null),
    }),
    predicate: t.string({
      nullable: true,
      description: 'Rule tags: the predicate (SQL over the registry record `r`, `:as_of` the reference date)',
      resolve: (tag) => (tag.kind === 'rule' ? tag.predicate : null),
    }),
    recomputedAt: t.string({
      nullable: true,
      description: 'Rule tags: when the assignments were last recomputed',
      resolve: async (tag, _a, ctx) => (await tagStates(ctx).load(tag.code))?.recomputedAt ?? null,
    }),
    recomputedAsOf: t.field({
      type: 'Date',
      nullable: true,
      description: 'Rule tags: the reference date of the last recompute',
      resolve: async (tag, _a, ctx) => (await tagStates(ctx).load(tag.code))?.recomputedAsOf ?? null,
    }),
    readable: t.boolean({
      nullable: false,
      description: 'Whether this caller may read the tag in clear (filter, count, see it on records)',
      resolve: (tag, _a, ctx) => decideTag(ctx.access, tag).kind === 'allow',
    }),
  }),
});

/** An assignment as one caller sees it. */
interface TagView {
  tag: TagDefinition;
  row: AssignmentRow;
  masked: boolean;
}

const MASKED = '***';

const TagAssignmentRef = builder.objectRef<TagView>('TagAssignment');
TagAssignmentRef.implement({
  description:
    'A tag on a record, since when and until when, and by which rule version or assigner. Masked tags show ' +
    "'***' and no provenance.",
  fields: (t) => ({
    code: t.string({ nullable: false, resolve: (v) => (v.masked ? MASKED : v.tag.code) }),
    name: t.string({ nullable: false, resolve: (v) => (v.masked ? MASKED : v.tag.name) }),
    tag: t.field({ type: TagRef, nullable: true, resolve: (v) => (v.masked ? null : v.tag) }),
    masked: t.boolean({ nullable: false, resolve: (v) => v.masked }),
    current: t.boolean({ nullable: false, resolve: (v) => v.row.validTo === null }),
    validFrom: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.validFrom) }),
    validTo: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.validTo) }),
    ruleVersion: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.ruleVersion) }),
    asOf: t.field({ type: 'Date', nullable: true, resolve: (v) => (v.masked ? null : v.row.asOf) }),
    assignedBy: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.assignedBy) }),
    assignerDept: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.assignerDept) }),
    reason: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.reason) }),
    closedBy: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.closedBy) }),
    closeReason: t.string({ nullable: true, resolve: (v) => (v.masked ? null : v.row.closeReason) }),
  }),
});

/** Tag assignments of records of one registry, current only or with history; one statement per batch. */
function assignmentsOf(ctx: GatewayContext, registry: TagRegistry, history: boolean) {
  return ctx.loaders.get<number, AssignmentRow[]>(`tags.of.${registry}.${history}`, async (ids) => {
    const found = await ctx.db.query<AssignmentRow>(
      `SELECT ${ASSIGNMENT_COLUMNS} FROM tag_assignments a
        WHERE a.registry = $1 AND a.record_id = ANY($2::bigint[]) ${history ? '' : 'AND a.valid_to IS NULL'}
        ORDER BY a.record_id, a.tag_code, a.valid_from, a.id`,
      [registry, ids.map(Number)],
    );
    return groupByKey(ids.map(Number), found, (a) => Number(a.recordId));
  });
}

/** Decides every tag of a record for the caller: denied ones are dropped, masked ones masked. */
function visible(ctx: GatewayContext, registry: TagRegistry, recordId: number, found: AssignmentRow[]) {
  const out: TagView[] = [];
  for (const row of found) {
    const tag = tagByCode(row.tagCode);
    // A tag no longer declared has no classification: fail closed.
    if (!tag) continue;
    const decision = decideTag(ctx.access, tag);
    ctx.access.noteField(tagPath(tag), decision);
    if (decision.kind === 'deny') continue;
    if (decision.kind === 'allow' && tagEntry(tag).sensitivePersonal && registry === 'person')
      ctx.access.noteSubject(`person:${recordId}`);
    out.push({ tag, row, masked: decision.kind === 'mask' });
  }
  return out;
}

const TAGS_DESCRIPTION =
  'Tags of this record the caller may see (each decided by its own classification); with history, ended ones too';

function resolveTags(registry: TagRegistry) {
  return async (record: { id: number | string }, args: { history?: boolean | null }, ctx: GatewayContext) => {
    const id = Number(record.id);
    return visible(ctx, registry, id, await assignmentsOf(ctx, registry, !!args.history).load(id));
  };
}

for (const [ref, registry] of [
  [PersonRef, 'person'],
  [HouseholdRef, 'household'],
  [EntityRef, 'entity'],
  [FeatureRef, 'feature'],
] as const) {
  builder.objectField(ref as typeof PersonRef, 'tags', (t) =>
    t.field({
      type: [TagAssignmentRef],
      nullable: false,
      access: 'link',
      description: TAGS_DESCRIPTION,
      args: { history: t.arg.boolean({ defaultValue: false }) },
      resolve: resolveTags(registry),
    }),
  );
}

builder.queryField('tags', (t) =>
  t.field({
    type: [TagRef],
    nullable: false,
    description: 'The tag definitions (public metadata, like the data-resource catalogue)',
    args: { registry: t.arg({ type: TagRegistryEnum }) },
    resolve: (_root, args) => TAGS.filter((tag) => !args.registry || tag.registry === args.registry),
  }),
);

// ---------------------------------------------------------------------------------------------------------
// Counts per division

interface TagCountCell {
  key: string;
  label: string | null;
  count: number | null;
  suppressed: boolean;
}

interface TagCounts {
  code: string;
  divisionCode: string;
  total: number | null;
  totalSuppressed: boolean;
  cells: TagCountCell[];
}

const TagCountCellRef = builder.objectRef<TagCountCell>('TagCountCell');
TagCountCellRef.implement({
  fields: (t) => ({
    divisionCode: t.exposeString('key', { nullable: false }),
    name: t.exposeString('label', { nullable: true }),
    count: t.exposeInt('count', { nullable: true, description: 'null when suppressed' }),
    suppressed: t.exposeBoolean('suppressed', { nullable: false }),
  }),
});

const TagCountsRef = builder.objectRef<TagCounts>('TagCounts');
TagCountsRef.implement({
  description:
    'How many records carry a tag in a division and in each of its child divisions (current assignments). ' +
    "Person and household counts below the suppression threshold are withheld from callers without a 'restricted' grant.",
  fields: (t) => ({
    code: t.exposeString('code', { nullable: false }),
    divisionCode: t.exposeString('divisionCode', { nullable: false }),
    total: t.exposeInt('total', { nullable: true }),
    totalSuppressed: t.exposeBoolean('totalSuppressed', { nullable: false }),
    cells: t.field({ type: [TagCountCellRef], nullable: false, resolve: (c) => c.cells }),
  }),
});

/** A tag code argument: known, else INVALID_ARGUMENT naming it. */
function requireTag(code: string, argument: string): TagDefinition {
  const tag = tagByCode(code);
  if (!tag) throw errors.invalidArgument(argument, `('${code}') is not a tag`);
  return tag;
}

builder.queryField('tagCounts', (t) =>
  t.field({
    type: TagCountsRef,
    nullable: false,
    description:
      'Records carrying a tag in a division subtree, per child division; the tag must be readable in clear',
    args: {
      code: t.arg.string({ required: true }),
      divisionCode: t.arg.string({ required: true }),
    },
    resolve: async (_root, args, ctx) => {
      const tag = requireTag(args.code, 'code');
      requireTagClear(ctx.access, tag, `tagCounts(code: ${tag.code})`);
      const division = await requireDivision(ctx, args.divisionCode, 'divisionCode');
      const scope = ctx.access.principal.scope;
      // As for population statistics: a department counts inside its own jurisdiction only.
      if (scope && !division.prefix.startsWith(scope.prefix)) {
        throw errors.outOfJurisdiction(`Division '${division.code}' (argument 'divisionCode')`);
      }
      const info = REGISTRIES[tag.registry];
      const params: unknown[] = [
        tag.code,
        division.prefix,
        division.prefix + '9'.repeat(12 - division.prefix.length),
      ];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      const rowScope = info.scope(ctx.access.principal, param);
      params.push(division.code);
      const found = await ctx.db.query<{ key: string | null; label: string | null; count: number }>(
        `WITH t AS (
           SELECT ${info.division} AS division FROM tag_assignments a JOIN ${info.table} r ON r.id = a.record_id
            WHERE a.tag_code = $1 AND a.valid_to IS NULL AND ${info.division} BETWEEN $2 AND $3 AND ${rowScope}),
         kids AS (
           SELECT code, name, prefix, prefix || repeat('9', 12 - length(prefix)) AS hi
             FROM divisions WHERE parent_code = $${params.length} AND valid_to IS NULL)
         SELECT k.code AS key, k.name AS label, count(t.division)::int AS count
           FROM kids k LEFT JOIN t ON t.division BETWEEN k.prefix AND k.hi
          GROUP BY k.code, k.name
         UNION ALL
         SELECT NULL, NULL, count(*)::int FROM t
          ORDER BY 1 NULLS FIRST`,
        params,
      );
      const total = Number(found.find((r) => r.key === null)?.count ?? 0);
      const raw = found
        .filter((r) => r.key !== null)
        .map((r) => ({ key: r.key!, label: r.label, count: Number(r.count) }));
      const personal = tag.registry === 'person' || tag.registry === 'household';
      const threshold = ctx.config.suppressionThreshold;
      const cleared =
        !personal || (ctx.access.principal.grants.get(info.dataset.id)?.maxLevel ?? 0) >= LEVELS.restricted;
      const totalSuppressed = !cleared && total > 0 && total < threshold;
      ctx.access.report.rows.TagCountCell = (ctx.access.report.rows.TagCountCell ?? 0) + raw.length;
      return {
        code: tag.code,
        divisionCode: division.code,
        total: totalSuppressed ? null : total,
        totalSuppressed,
        cells: suppress(raw, threshold, cleared),
      };
    },
  }),
);

// ---------------------------------------------------------------------------------------------------------
// Manual assignments and recomputes

/** A record id argument: an internal id or the record's global id (`Person:42`, base64). */
function parseRecordId(value: string | number, registry: TagRegistry, argument: string): number {
  const text = String(value);
  if (/^\d+$/.test(text)) return Number(text);
  try {
    const { typename, id } = decodeGlobalID(text);
    if (typename === REGISTRIES[registry].typeName && /^\d+$/.test(id)) return Number(id);
  } catch {
    // fall through
  }
  throw errors.invalidArgument(
    argument,
    `must be the id of a ${REGISTRIES[registry].typeName}, got '${text}'`,
  );
}

/** Who may assign or end a manual tag on a record: clear access, the right line of business, in scope. */
async function requireAssigner(ctx: GatewayContext, code: string, recordIdArg: string | number) {
  const tag = requireTag(code, 'input.code');
  if (tag.kind !== 'manual')
    throw errors.invalidArgument('input.code', `('${code}') is a rule tag: it is recomputed, not assigned`);
  requireTagClear(ctx.access, tag, `assignTag(code: ${tag.code})`);
  const { principal } = ctx.access;
  const kind = principal.department?.kind;
  if (!principal.roles.has('steward') && !(kind && tag.assignableBy.includes(kind))) {
    throw new GovError(
      'FORBIDDEN',
      `Tag '${tag.code}' is assigned by ${tag.assignableBy.join(', ')} departments (or stewards)`,
    );
  }
  const recordId = parseRecordId(recordIdArg, tag.registry, 'input.recordId');
  const info = REGISTRIES[tag.registry];
  const params: unknown[] = [recordId];
  const scope = info.scope(principal, (v) => {
    params.push(v);
    return `$${params.length}`;
  });
  const [record] = await ctx.db.query<{ inScope: boolean }>(
    `SELECT (${scope}) AS "inScope" FROM ${info.table} r WHERE r.id = $1`,
    params,
  );
  if (!record) throw errors.notFound(`${info.typeName} ${recordId} (argument 'input.recordId')`);
  if (!record.inScope)
    throw errors.outOfJurisdiction(`${info.typeName} ${recordId} (argument 'input.recordId')`);
  return { tag: tag as ManualTag, recordId };
}

function storeError(error: unknown): never {
  if (error instanceof TagError) {
    if (error.reason === 'no_record' || error.reason === 'not_assigned') throw errors.notFound(error.message);
    throw errors.invalidArgument('input', error.message);
  }
  throw error;
}

function requireReason(reason: string): string {
  const text = reason.trim();
  if (text.length < 2 || text.length > 500)
    throw errors.invalidArgument('input.reason', 'must have 2 to 500 characters');
  return text;
}

const AssignTagInput = builder.inputType('AssignTagInput', {
  fields: (t) => ({
    code: t.string({ required: true }),
    recordId: t.id({
      required: true,
      description: 'Internal id or global id of the person, household, entity or feature',
    }),
    reason: t.string({ required: true }),
    validFrom: t.field({
      type: 'Date',
      description: 'Since when the tag applies (not in the future); default now',
    }),
  }),
});

const EndTagInput = builder.inputType('EndTagInput', {
  fields: (t) => ({
    code: t.string({ required: true }),
    recordId: t.id({ required: true }),
    reason: t.string({ required: true }),
  }),
});

builder.mutationField('assignTag', (t) =>
  t.field({
    type: TagAssignmentRef,
    nullable: false,
    description:
      'Assigns a manual tag to a record, with a reason (departments of the tag’s line of business, in their jurisdiction, or stewards)',
    args: { input: t.arg({ type: AssignTagInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { tag, recordId } = await requireAssigner(ctx, input.code, input.recordId);
      const reason = requireReason(input.reason);
      if (input.validFrom && input.validFrom > new Date().toISOString().slice(0, 10))
        throw errors.invalidArgument('input.validFrom', 'must not be in the future');
      const by = {
        principal: ctx.access.principal.id,
        department: ctx.access.principal.department?.code ?? null,
      };
      const row = await assignTag(ctx.db, {
        tag,
        recordId,
        reason,
        validFrom: input.validFrom ?? null,
        by,
      }).catch(storeError);
      return { tag, row, masked: false };
    },
  }),
);

builder.mutationField('endTag', (t) =>
  t.field({
    type: TagAssignmentRef,
    nullable: false,
    description:
      'Ends a manual tag on a record: the assignment is closed with who and why, and kept as history',
    args: { input: t.arg({ type: EndTagInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { tag, recordId } = await requireAssigner(ctx, input.code, input.recordId);
      const reason = requireReason(input.reason);
      const by = {
        principal: ctx.access.principal.id,
        department: ctx.access.principal.department?.code ?? null,
      };
      const row = await endTag(ctx.db, { tag, recordId, reason, by }).catch(storeError);
      return { tag, row, masked: false };
    },
  }),
);

const TagRunRef = builder.objectRef<RecomputeResult>('TagRun');
TagRunRef.implement({
  description: 'One recompute of a rule tag: what matched and which assignments moved',
  fields: (t) => ({
    code: t.exposeString('code', { nullable: false }),
    version: t.exposeString('version', { nullable: false }),
    asOf: t.field({ type: 'Date', nullable: false, resolve: (r) => r.asOf }),
    matched: t.exposeInt('matched', { nullable: false }),
    opened: t.exposeInt('opened', { nullable: false }),
    closed: t.exposeInt('closed', { nullable: false }),
    durationMs: t.exposeInt('durationMs', { nullable: false }),
  }),
});

builder.mutationField('recomputeTags', (t) =>
  t.field({
    type: [TagRunRef],
    nullable: false,
    description:
      'Recomputes rule tags now (all, or the named ones), set-based, one transaction per tag (stewards)',
    args: {
      codes: t.arg.stringList({ description: 'Rule tag codes; default every rule tag' }),
      asOf: t.arg({ type: 'Date', description: 'Reference date; default today' }),
    },
    resolve: async (_root, args, ctx) => {
      if (!ctx.access.principal.roles.has('steward'))
        throw new GovError('FORBIDDEN', `Mutation.recomputeTags is for data stewards (role 'steward')`);
      ctx.access.noteField('Mutation.recomputeTags', { kind: 'allow' });
      for (const code of args.codes ?? []) {
        const tag = requireTag(code, 'codes');
        if (tag.kind !== 'rule') throw errors.invalidArgument('codes', `('${code}') is a manual tag`);
      }
      const results = await recomputeTags(ctx.db, {
        codes: args.codes ?? [],
        asOf: args.asOf ?? new Date().toISOString().slice(0, 10),
        triggeredBy: ctx.access.principal.id,
      });
      ctx.access.report.rows.TagRun = results.length;
      return results;
    },
  }),
);

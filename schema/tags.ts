import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  date,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { dataset, type FieldEntry, f } from './catalogue.ts';

/**
 * Tags: named labels on registry records ("elderly", "living alone", "enterprise in an ecological
 * protection zone"), manual or computed by a set-based rule. The definitions are declared in code
 * (src/tags/definitions.ts) and written here on every recompute or assignment, so SQL can join them and
 * the catalogue can list them; an assignment is never deleted: it is closed by setting `valid_to`.
 *
 * A tag is classified on its own (a tag can be sensitive, e.g. low-income): the GraphQL layer decides each
 * tag of a record by the tag's level, sharing class and mask rule against the grant on the tag's registry
 * dataset (src/tags/access.ts), exactly as it decides a field.
 */

export const TAG_REGISTRIES = ['person', 'household', 'entity', 'feature'] as const;
export type TagRegistry = (typeof TAG_REGISTRIES)[number];
export const TAG_KINDS = ['manual', 'rule'] as const;
export const TAG_LEVELS = ['public', 'internal', 'restricted', 'sensitive'] as const;

export const tags = pgTable('tags', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  registry: text('registry', { enum: TAG_REGISTRIES }).notNull(),
  /** Department code responsible for the tag (its definition and, for manual tags, its assignments). */
  ownerDept: text('owner_dept').notNull(),
  level: text('level', { enum: TAG_LEVELS }).notNull(),
  share: text('share', { enum: ['unconditional', 'conditional', 'none'] }).notNull(),
  mask: text('mask', { enum: ['none', 'redact'] }).notNull(),
  kind: text('kind', { enum: TAG_KINDS }).notNull(),
  /** Rule tags: the version label of the predicate, and the predicate as declared (the WHERE over `r`). */
  ruleVersion: text('rule_version'),
  rulePredicate: text('rule_predicate'),
  /** Rule tags: when the assignments were last recomputed, and for which reference date. */
  recomputedAt: timestamp('recomputed_at', { withTimezone: true }),
  recomputedAsOf: date('recomputed_as_of'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const tagAssignments = pgTable(
  'tag_assignments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tagCode: text('tag_code')
      .notNull()
      .references(() => tags.code),
    /** Denormalised from the tag: which registry `record_id` points into. */
    registry: text('registry', { enum: TAG_REGISTRIES }).notNull(),
    /** persons.id, households.id, entities.id or features.id. */
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    /** When the tag started to apply (manual: as stated by the assigner; rule: when a recompute found it). */
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
    /** When it stopped applying; null while current. Assignments are closed, never deleted. */
    validTo: timestamp('valid_to', { withTimezone: true }),
    /** Rule tags: the rule version and reference date of the recompute that opened the assignment. */
    ruleVersion: text('rule_version'),
    asOf: date('as_of'),
    /** Manual: the principal who assigned it; rule: 'rule:<code>@<version>'. */
    assignedBy: text('assigned_by').notNull(),
    assignerDept: text('assigner_dept'),
    /** Manual tags: why (required). */
    reason: text('reason'),
    closedBy: text('closed_by'),
    closeReason: text('close_reason'),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tag_assignments_current_key').on(t.tagCode, t.recordId).where(sql`valid_to IS NULL`),
    index('tag_assignments_record_idx').on(t.registry, t.recordId).where(sql`valid_to IS NULL`),
    index('tag_assignments_history_idx').on(t.tagCode, t.recordId, t.validFrom),
  ],
);

/** One row per recompute of a rule tag: what it matched and moved. */
export const tagRuns = pgTable(
  'tag_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tagCode: text('tag_code').notNull(),
    ruleVersion: text('rule_version').notNull(),
    asOf: date('as_of').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    durationMs: integer('duration_ms').notNull(),
    matched: bigint('matched', { mode: 'number' }).notNull(),
    opened: bigint('opened', { mode: 'number' }).notNull(),
    closed: bigint('closed', { mode: 'number' }).notNull(),
    triggeredBy: text('triggered_by').notNull(),
  },
  (t) => [index('tag_runs_tag_idx').on(t.tagCode, t.id)],
);

const governance = { registry: 'governance', owner: 'PLATFORM' } as const;

/**
 * Membership of a record in a tag is as sensitive as the tag: the raw table holds low-income
 * memberships, so its key columns are classified at the highest level. Consumers never read it directly:
 * they read `tags` on a record, where each tag is decided by its own classification.
 */
const membership = (description: string): FieldEntry => ({
  level: 'sensitive',
  share: 'conditional',
  mask: 'none',
  description,
});

export const tagsDataset = dataset(
  tags,
  {
    ...governance,
    id: 'governance.tags',
    name: '标签定义 Tag definitions',
    description:
      'Tags on registry records: owner, classification, manual or rule with its predicate and version',
    updateFrequency: 'realtime',
  },
  {
    code: f.internal('Tag code'),
    name: f.internal('Tag name'),
    description: f.internal('What the tag means'),
    registry: f.internal('person, household, entity or feature'),
    ownerDept: f.internal('Department responsible for the tag'),
    level: f.internal('Classification of the tag itself (public … sensitive)'),
    share: f.internal('Sharing class of the tag'),
    mask: f.internal('none (hidden below its level) or redact (provenance redacted one level below)'),
    kind: f.internal('manual or rule'),
    ruleVersion: f.internal('Version of the rule predicate last applied'),
    rulePredicate: f.internal('The rule predicate (SQL over the registry record r) last applied'),
    recomputedAt: f.internal('When the rule was last recomputed'),
    recomputedAsOf: f.internal('Reference date of the last recompute'),
    updatedAt: f.meta('When the definition was last written'),
  },
);

export const tagAssignmentsDataset = dataset(
  tagAssignments,
  {
    ...governance,
    id: 'governance.tag_assignments',
    name: '标签记录 Tag assignments',
    description:
      'Which record carries which tag, since when and until when, by which rule version or assigner',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Assignment id'),
    tagCode: membership('Tag (membership is as sensitive as the most sensitive tag)'),
    registry: f.internal('Registry of the record'),
    recordId: membership('The tagged record (internal id)'),
    validFrom: f.internal('Applies from'),
    validTo: f.internal('Applies until (closed, never deleted)'),
    ruleVersion: f.internal('Rule version that opened the assignment'),
    asOf: f.internal('Reference date of the recompute that opened it'),
    assignedBy: f.internal('Principal (manual) or rule that assigned it'),
    assignerDept: f.internal('Department of the assigner'),
    reason: f.restricted('Why the tag was assigned (manual tags)', 'redact'),
    closedBy: f.internal('Principal or rule that closed it'),
    closeReason: f.restricted('Why it was closed', 'redact'),
    recordedAt: f.meta('When the row was written'),
  },
);

export const tagRunsDataset = dataset(
  tagRuns,
  {
    ...governance,
    id: 'governance.tag_runs',
    name: '标签计算记录 Tag recomputes',
    description: 'Recomputes of rule tags: version, reference date, matched, opened and closed assignments',
    updateFrequency: 'daily',
  },
  {
    id: f.internal('Run id'),
    tagCode: f.internal('Tag'),
    ruleVersion: f.internal('Rule version applied'),
    asOf: f.internal('Reference date'),
    startedAt: f.internal('Start'),
    durationMs: f.internal('Time taken'),
    matched: f.internal('Records matching the predicate'),
    opened: f.internal('Assignments opened'),
    closed: f.internal('Assignments closed'),
    triggeredBy: f.internal('Who started it (CLI user, steward principal, schedule)'),
  },
);

import {
  bigint,
  bigserial,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';

/**
 * Data updates: import batches with their rejects and lineage, the keys of imported features, and data
 * disputes. Written by src/ingest/import (the CLI `npm run import` and the GraphQL corrections share it).
 */

export const IMPORT_STATUSES = ['running', 'merged', 'failed', 'dry_run'] as const;

/**
 * One delivery of records by a department: a file (csv, ndjson, geojson) or a correction submitted over
 * GraphQL. A batch is keyed by registry, source department and the SHA-256 of its content, so the same
 * file delivered twice is the same batch: the second run finds it merged and changes nothing.
 */
export const importBatches = pgTable(
  'import_batches',
  {
    id: text('id').primaryKey(),
    registry: text('registry').notNull(),
    sourceDept: text('source_dept').notNull(),
    fileName: text('file_name').notNull(),
    /** SHA-256 of the file (or of the correction's canonical payload), hex. */
    fileChecksum: text('file_checksum').notNull(),
    format: text('format', { enum: ['csv', 'ndjson', 'geojson', 'graphql'] }).notNull(),
    /** OS user of the CLI, or the principal id of a GraphQL correction. */
    submittedBy: text('submitted_by').notNull(),
    /** Why (corrections): the submitter's reason. */
    note: text('note'),
    status: text('status', { enum: IMPORT_STATUSES }).notNull(),
    /** importing while the batch's one transaction runs (nothing of it is visible before), then as status. */
    phase: text('phase').notNull(),
    attempts: integer('attempts').notNull().default(1),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    totalRows: integer('total_rows').notNull().default(0),
    accepted: integer('accepted').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    inserted: integer('inserted').notNull().default(0),
    changed: integer('changed').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('import_batches_content_key').on(t.registry, t.sourceDept, t.fileChecksum),
    index('import_batches_started_idx').on(t.startedAt),
  ],
);

/** Rows of a merged batch that were refused: one row per defect (a row may have several). */
export const importRejects = pgTable(
  'import_rejects',
  {
    batchId: text('batch_id').notNull(),
    rowNo: integer('row_no').notNull(),
    field: text('field').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('import_rejects_batch_idx').on(t.batchId, t.rowNo)],
);

/**
 * Lineage: which row of which batch produced which version of a record. Unchanged rows leave no trace
 * (the version they confirm was produced earlier).
 */
export const importLineage = pgTable(
  'import_lineage',
  {
    batchId: text('batch_id').notNull(),
    rowNo: integer('row_no').notNull(),
    /** person, entity, feature, … (as in the change log). */
    recordType: text('record_type').notNull(),
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    /** The record's version after the row was merged (null for unversioned registries). */
    version: integer('version'),
    /** inserted or updated. */
    action: text('action', { enum: ['inserted', 'updated'] }).notNull(),
  },
  (t) => [index('import_lineage_record_idx').on(t.recordType, t.recordId)],
);

/**
 * The key a source gives a feature of a thematic layer (the GeoJSON feature id or a key property): what
 * makes a repeated feature delivery an update, not a second feature.
 */
export const featureKeys = pgTable(
  'feature_keys',
  {
    layerId: text('layer_id').notNull(),
    featureKey: text('feature_key').notNull(),
    featureId: bigint('feature_id', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.layerId, t.featureKey] }),
    uniqueIndex('feature_keys_feature_key').on(t.featureId),
  ],
);

export const DISPUTE_STATUSES = ['open', 'accepted', 'rejected'] as const;

/**
 * A data dispute (数据异议): a consumer says a record is wrong; the dispute is routed to the department that
 * owns the dataset, which accepts it (and corrects the record) or rejects it, with a note.
 */
export const dataDisputes = pgTable(
  'data_disputes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The dataset id, e.g. population.persons. */
    dataset: text('dataset').notNull(),
    recordType: text('record_type').notNull(),
    recordId: bigint('record_id', { mode: 'number' }).notNull(),
    /** The disputed field (catalogue name), or null for the record as a whole. */
    field: text('field'),
    reason: text('reason').notNull(),
    /** Division of the record when raised: the owner's jurisdiction decides who may resolve it. */
    divisionCode: text('division_code'),
    raisedByDept: text('raised_by_dept').notNull(),
    raisedBy: text('raised_by').notNull(),
    raisedAt: timestamp('raised_at', { withTimezone: true }).notNull().defaultNow(),
    /** The owning department the dispute is routed to. */
    ownerDept: text('owner_dept').notNull(),
    status: text('status', { enum: DISPUTE_STATUSES }).notNull().default('open'),
    resolvedByDept: text('resolved_by_dept'),
    resolvedBy: text('resolved_by'),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolution: text('resolution'),
    /** The correction batch that fixed the record, when the dispute was accepted with a correction. */
    correctionBatch: text('correction_batch'),
  },
  (t) => [
    index('data_disputes_owner_idx').on(t.ownerDept, t.status),
    index('data_disputes_raiser_idx').on(t.raisedByDept, t.status),
    index('data_disputes_record_idx').on(t.recordType, t.recordId),
  ],
);

const imports = { registry: 'governance', owner: 'PLATFORM', updateFrequency: 'realtime' } as const;

export const importBatchesDataset = dataset(
  importBatches,
  {
    ...imports,
    id: 'governance.import_batches',
    name: '导入批次 Import batches',
    description: 'Deliveries of records by departments, with their outcome',
  },
  {
    id: f.internal('Batch id'),
    registry: f.internal('Registry the batch updates'),
    sourceDept: f.internal('Department that supplied the batch'),
    fileName: f.internal('File name as delivered'),
    fileChecksum: f.internal('SHA-256 of the content'),
    format: f.internal('csv, ndjson, geojson or graphql (a correction)'),
    submittedBy: f.internal('Who ran the import or submitted the correction'),
    note: f.internal('Reason given for a correction'),
    status: f.internal('running, merged, failed or dry_run'),
    phase: f.internal('Last phase reached'),
    attempts: f.internal('How many times the batch was started'),
    startedAt: f.internal('Started'),
    finishedAt: f.internal('Finished'),
    totalRows: f.internal('Rows read'),
    accepted: f.internal('Rows that passed validation'),
    rejected: f.internal('Rows refused'),
    inserted: f.internal('New records'),
    changed: f.internal('Records that changed'),
    unchanged: f.internal('Accepted rows that changed nothing'),
    error: f.internal('Why the batch failed'),
  },
);

export const importRejectsDataset = dataset(
  importRejects,
  {
    ...imports,
    id: 'governance.import_rejects',
    name: '导入拒绝记录 Import rejects',
    description: 'Rows refused by imports and corrections: row, field and reason (no values)',
  },
  {
    batchId: f.internal('Batch'),
    rowNo: f.internal('Row number in the delivery'),
    field: f.internal('Field at fault'),
    reason: f.internal('Why the row was refused'),
  },
);

export const importLineageDataset = dataset(
  importLineage,
  {
    ...imports,
    id: 'governance.import_lineage',
    name: '数据血缘 Record lineage',
    description: 'Which row of which batch produced each version of a record',
  },
  {
    batchId: f.meta('Batch'),
    rowNo: f.meta('Row number in the delivery'),
    recordType: f.meta('Kind of record'),
    recordId: f.meta('Internal record key'),
    version: f.meta('Version produced'),
    action: f.meta('inserted or updated'),
  },
  {
    sourceDept: f.meta('Department that supplied the batch'),
    fileName: f.meta('File name as delivered (a correction: graphql)'),
    fileChecksum: f.meta('SHA-256 of the delivered content'),
    format: f.meta('csv, ndjson, geojson or graphql (a correction)'),
    mergedAt: f.meta('When the batch was merged'),
  },
);

export const featureKeysDataset = dataset(
  featureKeys,
  {
    id: 'spatial.feature_keys',
    name: '要素来源标识 Feature source keys',
    description: 'The key each source gives a feature, so repeated deliveries update it',
    registry: 'spatial',
    owner: 'MNR',
    updateFrequency: 'realtime',
  },
  {
    layerId: f.publicOpen('Layer'),
    featureKey: f.publicOpen('Key the source gives the feature'),
    featureId: f.publicOpen('Feature id'),
  },
);

export const dataDisputesDataset = dataset(
  dataDisputes,
  {
    ...imports,
    id: 'governance.data_disputes',
    name: '数据异议 Data disputes',
    description: 'Disputes raised by consumers on records, routed to the owning department',
  },
  {
    id: f.internal('Dispute id'),
    dataset: f.internal('Dataset of the disputed record'),
    recordType: f.internal('Kind of record'),
    recordId: f.internal('Internal record key'),
    field: f.internal('Disputed field'),
    reason: f.internal('What the consumer says is wrong'),
    divisionCode: f.internal('Division of the record when raised'),
    raisedByDept: f.internal('Department that raised it'),
    raisedBy: f.internal('Principal that raised it'),
    raisedAt: f.internal('Raised'),
    ownerDept: f.internal('Department it is routed to'),
    status: f.internal('open, accepted or rejected'),
    resolvedByDept: f.internal('Department that resolved it'),
    resolvedBy: f.internal('Principal that resolved it'),
    resolvedAt: f.internal('Resolved'),
    resolution: f.internal('Resolution note'),
    correctionBatch: f.internal('Correction that fixed the record'),
  },
);

import { bigserial, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';

/**
 * The change log shared by every registry: one row per change of a registry record, in commit order.
 *
 * Rows are written by triggers on the registry tables (see migrations/*_legal_entity_change_log.sql), so
 * every write path — the store functions, bulk loads, a manual UPDATE — logs the same way. Writers take
 * one transaction-scoped advisory lock before they take a sequence number, so `seq` order is commit
 * order and a consumer that has read up to seq N never later finds a committed row below N. A statement
 * trigger on this table sends NOTIFY on the `govbase_changes` channel with the highest new seq; the
 * payload carries nothing else, and consumers re-read the rows with their own scope and grants.
 */
export const changeLog = pgTable(
  'change_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    /** 'legal-entity', later every registry. */
    registry: text('registry').notNull(),
    /** 'entity', … : which kind of record changed. */
    recordType: text('record_type').notNull(),
    /** The record's natural key (an entity's USCC). */
    recordKey: text('record_key').notNull(),
    /** registered, updated, status_changed, legal_rep_changed, shareholding_changed, deleted */
    action: text('action').notNull(),
    /** The record's version after the change. */
    version: integer('version'),
    /** The division the record belongs to after the change: what jurisdiction filters read. */
    divisionCode: text('division_code'),
    /** A second division the record belongs to (a person's residence beside the household registration). */
    otherDivisionCode: text('other_division_code'),
    /**
     * The division the record belonged to before the change, when the change moved it (else null), so the
     * jurisdiction it left learns that it left.
     */
    previousDivisionCode: text('previous_division_code'),
    /** The second division before the change, when the change moved it (a person's former residence). */
    previousOtherDivisionCode: text('previous_other_division_code'),
    /** Columns whose value changed (null for a registration or deletion). */
    changedFields: text('changed_fields').array(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    sourceDept: text('source_dept'),
    batch: text('batch'),
  },
  (t) => [index('change_log_record_idx').on(t.recordType, t.recordKey, t.seq)],
);

export const changeLogDataset = dataset(
  changeLog,
  {
    id: 'governance.change_log',
    name: '变更日志 Change log',
    description: 'Changes of registry records in commit order, for pull and push consumers',
    registry: 'governance',
    owner: 'PLATFORM',
    updateFrequency: 'realtime',
  },
  {
    seq: f.internal('Position in the log; consumers resume after it'),
    registry: f.internal('Registry of the changed record'),
    recordType: f.internal('Kind of record'),
    recordKey: f.internal('Natural key of the record'),
    action: f.internal('What happened'),
    version: f.internal('Version of the record after the change'),
    divisionCode: f.internal('Division of the record after the change'),
    otherDivisionCode: f.internal('Second division of the record after the change (a person’s residence)'),
    previousDivisionCode: f.internal('Division of the record before the change, when the change moved it'),
    previousOtherDivisionCode: f.internal('Second division before the change, when the change moved it'),
    changedFields: f.internal('Names of the changed fields (not their values)'),
    at: f.internal('When the change was committed'),
    sourceDept: f.meta('Department that supplied the change'),
    batch: f.meta('Import batch of the change'),
  },
);

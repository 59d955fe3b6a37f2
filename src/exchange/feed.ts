import { type SQL, sql } from 'drizzle-orm';
import type { Dataset } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { entitiesDataset, shareholdingsDataset } from '../../schema/legal-entity.ts';
import { householdMembersDataset, householdsDataset, personsDataset } from '../../schema/population.ts';
import type { JurisdictionScope } from '../access/principal.ts';
import type { RequestAccess } from '../access/request-access.ts';
import { type Database, rows } from '../db/index.ts';
import { changeHub, changeLogHead } from '../registries/legal-entity/change-feed.ts';

/**
 * The change feed of every registry, over the shared change log (written by the registry tables'
 * triggers, in commit order): pull (read after a cursor) and push (LISTEN on the log's channel, then read
 * after the cursor). Either way the rows are read with the consumer's own jurisdiction and grants; the
 * NOTIFY payload (a sequence number) is all that is broadcast. The legal-entity feed (entityChanges /
 * entityChanged) is this feed narrowed to entities, with entity-specific fields.
 */

export const FEED_REGISTRIES = ['population', 'legal-entity', 'spatial'] as const;
export type FeedRegistry = (typeof FEED_REGISTRIES)[number];

export const CHANGE_ACTIONS = [
  'registered',
  'updated',
  'status_changed',
  'moved',
  'legal_rep_changed',
  'shareholding_changed',
  'members_changed',
  'deleted',
] as const;
export type ChangeAction = (typeof CHANGE_ACTIONS)[number];

/** A kind of record in the log and the dataset whose grant a consumer needs to learn of its changes. */
interface RecordKind {
  registry: FeedRegistry;
  recordType: string;
  dataset: Dataset;
  /** Actions that reveal another dataset (an entity's shareholding change: the shareholdings). */
  actionDatasets?: Partial<Record<ChangeAction, Dataset>>;
  /** Public data: any consumer of the log may learn of its changes. */
  public?: boolean;
}

const ds = (d: unknown) => d as Dataset;

export const RECORD_KINDS: readonly RecordKind[] = [
  { registry: 'population', recordType: 'person', dataset: ds(personsDataset) },
  {
    registry: 'population',
    recordType: 'household',
    dataset: ds(householdsDataset),
    actionDatasets: { members_changed: ds(householdMembersDataset) },
  },
  {
    registry: 'legal-entity',
    recordType: 'entity',
    dataset: ds(entitiesDataset),
    actionDatasets: { shareholding_changed: ds(shareholdingsDataset) },
  },
  { registry: 'spatial', recordType: 'feature', dataset: ds(featuresDataset), public: true },
];

export interface ChangeRow {
  seq: number;
  registry: FeedRegistry;
  recordType: string;
  recordKey: string;
  action: ChangeAction;
  version: number | null;
  /** Divisions after the change; null where the consumer's jurisdiction does not reach (see changesSql). */
  divisionCode: string | null;
  otherDivisionCode: string | null;
  /** Divisions before the change, when it moved the record; null likewise outside the jurisdiction. */
  previousDivisionCode: string | null;
  previousOtherDivisionCode: string | null;
  /** The record was in the consumer's area (division filter, else jurisdiction) before and is not now. */
  leftArea: boolean;
  changedFields: string[] | null;
  at: Date;
  sourceDept: string | null;
  batch: string | null;
}

/** What a consumer may learn of: per record type, all its actions or only some. */
export interface VisibleKind {
  recordType: string;
  /** null: every action. */
  actions: ChangeAction[] | null;
}

export interface FeedFilter {
  registry: FeedRegistry;
  /** The consumer's jurisdiction; null = national. */
  scope: JurisdictionScope | null;
  kinds: readonly VisibleKind[];
  /** An optional division subtree within the jurisdiction: [lo, hi]. */
  division?: { lo: string; hi: string } | null;
}

/** The record types (and actions) of a registry whose changes the caller's grants let it learn of. */
export function visibleKinds(
  access: RequestAccess,
  registry: FeedRegistry,
  recordTypes?: readonly string[] | null,
) {
  const kinds: VisibleKind[] = [];
  for (const kind of RECORD_KINDS) {
    if (kind.registry !== registry) continue;
    if (recordTypes?.length && !recordTypes.includes(kind.recordType)) continue;
    const granted = (d: Dataset) =>
      access.principal.grants.has(d.id) || (kind.public && access.canReadDataset(d));
    if (!granted(kind.dataset)) continue;
    const hidden = Object.entries(kind.actionDatasets ?? {})
      .filter(([, d]) => !granted(d))
      .map(([a]) => a);
    kinds.push({
      recordType: kind.recordType,
      actions: hidden.length ? CHANGE_ACTIONS.filter((a) => !hidden.includes(a)) : null,
    });
  }
  return kinds;
}

export function changesSql(
  after: number,
  limit: number,
  filter: FeedFilter,
  upTo: number | null = null,
): SQL {
  const kinds = filter.kinds.map((k) =>
    k.actions
      ? sql`(c.record_type = ${k.recordType} AND c.action = ANY(${sql.param(k.actions)}::text[]))`
      : sql`c.record_type = ${k.recordType}`,
  );
  const conditions: SQL[] = [
    sql`c.seq > ${after}`,
    ...(upTo === null ? [] : [sql`c.seq <= ${upTo}`]),
    sql`c.registry = ${filter.registry}`,
    sql`(${sql.join(kinds, sql` OR `)})`,
  ];
  // A change belongs to the divisions the record is in after it and, when it moved the record, those it
  // left: the county a person moved out of learns that the person left.
  const between = (column: SQL, range: { lo: string; hi: string }) =>
    sql`${column} BETWEEN ${range.lo} AND ${range.hi}`;
  const now = (range: { lo: string; hi: string }) =>
    sql`(${between(sql`c.division_code`, range)} OR ${between(sql`c.other_division_code`, range)})`;
  const before = (range: { lo: string; hi: string }) =>
    sql`(${between(sql`c.previous_division_code`, range)} OR ${between(sql`c.previous_other_division_code`, range)})`;
  const within = (range: { lo: string; hi: string }) => sql`(${now(range)} OR ${before(range)})`;
  if (filter.scope) conditions.push(within(filter.scope));
  if (filter.division) conditions.push(within(filter.division));
  // Divisions outside the consumer's jurisdiction are not served: the county a person left learns that the
  // person left, not where to.
  const scoped = (column: string) =>
    filter.scope
      ? sql`CASE WHEN ${between(sql.raw(column), filter.scope)} THEN ${sql.raw(column)} END`
      : sql.raw(column);
  const area = filter.division ?? filter.scope;
  const left = area ? sql`(${before(area)} AND NOT ${now(area)})` : sql`false`;
  return sql`SELECT c.seq, c.registry, c.record_type AS "recordType", c.record_key AS "recordKey", c.action,
                    c.version, ${scoped('c.division_code')} AS "divisionCode",
                    ${scoped('c.other_division_code')} AS "otherDivisionCode",
                    ${scoped('c.previous_division_code')} AS "previousDivisionCode",
                    ${scoped('c.previous_other_division_code')} AS "previousOtherDivisionCode",
                    coalesce(${left}, false) AS "leftArea",
                    c.changed_fields AS "changedFields", c.at, c.source_dept AS "sourceDept", c.batch
               FROM change_log c WHERE ${sql.join(conditions, sql` AND `)}
              ORDER BY c.seq LIMIT ${limit}`;
}

/** Changes after `after` (a seq; up to `upTo` when given) visible through `filter`, oldest first. */
export async function readChanges(
  db: Database,
  after: number,
  limit: number,
  filter: FeedFilter,
  upTo: number | null = null,
): Promise<ChangeRow[]> {
  if (filter.kinds.length === 0) return [];
  const found = await rows<ChangeRow>(db, changesSql(after, limit, filter, upTo));
  return found.map((r) => ({ ...r, seq: Number(r.seq) }));
}

export { changeLogHead };

/**
 * A push stream of changes after `after` (null = from now): the backlog first, then each change as it is
 * committed, read with `filter`. One LISTEN per database handle serves every stream of the process
 * (ChangeHub). Closing the iterator stops listening, even while it waits.
 */
export async function changeStream(
  db: Database,
  filter: FeedFilter,
  after: number | null,
  pageSize = 500,
): Promise<AsyncIterableIterator<ChangeRow>> {
  let wake: (() => void) | null = null;
  let closed = false;
  const queue: ChangeRow[] = [];
  let head = 0;
  const unsubscribe = await changeHub(db).subscribe((seq) => {
    if (seq > head) head = seq;
    wake?.();
  });
  // Listening is active before the head is read, so nothing committed in between is missed.
  head = Math.max(head, await changeLogHead(db));
  let cursor = after ?? head;

  const close = async () => {
    closed = true;
    wake?.();
    await unsubscribe();
  };

  const iterator: AsyncIterableIterator<ChangeRow> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      try {
        while (!closed) {
          const next = queue.shift();
          if (next) return { value: next, done: false };
          if (cursor < head) {
            const upTo = head;
            const page = await readChanges(db, cursor, pageSize, filter, upTo);
            queue.push(...page);
            cursor = page.length === pageSize ? page.at(-1)!.seq : upTo;
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
      } catch (error) {
        await close();
        throw error;
      }
      return { value: undefined, done: true };
    },
    async return() {
      await close();
      return { value: undefined, done: true };
    },
  };
  return iterator;
}

import { type SQL, sql } from 'drizzle-orm';
import type { Dataset } from '../../../schema/catalogue.ts';
import { entitiesDataset, shareholdingsDataset } from '../../../schema/legal-entity.ts';
import type { JurisdictionScope, Principal } from '../../access/principal.ts';
import { type Database, rows } from '../../db/index.ts';
import { subtreeEnd } from './entity-store.ts';

/**
 * The entity change feed over the shared change log: pull (read after a cursor) and push (LISTEN on the
 * log's channel, then read after the cursor). Either way the rows are read with the consumer's own
 * jurisdiction and grants, so the NOTIFY payload (a sequence number) is all that is broadcast.
 */

/** The channel the change log's statement trigger notifies, payload = highest new seq. */
export const CHANGE_CHANNEL = 'govbase_changes';

export const ENTITY_CHANGE_ACTIONS = [
  'registered',
  'updated',
  'status_changed',
  'legal_rep_changed',
  'shareholding_changed',
  'deleted',
] as const;
export type EntityChangeAction = (typeof ENTITY_CHANGE_ACTIONS)[number];

/** The dataset whose grant a consumer needs to learn of each kind of change. */
const ACTION_DATASETS: Record<EntityChangeAction, Dataset> = {
  registered: entitiesDataset as unknown as Dataset,
  updated: entitiesDataset as unknown as Dataset,
  status_changed: entitiesDataset as unknown as Dataset,
  legal_rep_changed: entitiesDataset as unknown as Dataset,
  deleted: entitiesDataset as unknown as Dataset,
  shareholding_changed: shareholdingsDataset as unknown as Dataset,
};

export interface EntityChangeRow {
  seq: number;
  action: EntityChangeAction;
  /** The entity's USCC. */
  uscc: string;
  version: number | null;
  /** The division after the change; null outside the consumer's jurisdiction (a move out of it). */
  divisionCode: string | null;
  /** The division before the change, when the change moved the entity; null likewise. */
  previousDivisionCode: string | null;
  /** The entity was in the consumer's area before the change and is not after it. */
  leftArea: boolean;
  /** Column names, e.g. legal_rep_name. */
  changedFields: string[] | null;
  at: Date;
  sourceDept: string | null;
  batch: string | null;
}

export interface ChangeFilter {
  /** The consumer's jurisdiction; null = national. */
  scope: JurisdictionScope | null;
  /** Actions to deliver: already narrowed to those the consumer's grants allow. */
  actions: readonly EntityChangeAction[];
  /** An optional division subtree within the jurisdiction. */
  divisionPrefix?: string | null;
}

/** The actions a principal may learn of (a grant on the dataset each reveals), narrowed to `requested`. */
export function visibleActions(
  principal: Principal,
  requested?: readonly EntityChangeAction[] | null,
): EntityChangeAction[] {
  const wanted = requested?.length ? requested : ENTITY_CHANGE_ACTIONS;
  return wanted.filter((a) => principal.grants.has(ACTION_DATASETS[a].id));
}

export function entityChangesSql(
  after: number,
  limit: number,
  filter: ChangeFilter,
  upTo: number | null = null,
): SQL {
  const conditions: SQL[] = [
    sql`c.seq > ${after}`,
    ...(upTo === null ? [] : [sql`c.seq <= ${upTo}`]),
    sql`c.registry = 'legal-entity'`,
    sql`c.record_type = 'entity'`,
    sql`c.action = ANY(${sql.param([...filter.actions])}::text[])`,
  ];
  // A change belongs to the division after it and, when it moved the entity, to the one it left (0016).
  const now = (lo: string, hi: string) => sql`c.division_code BETWEEN ${lo} AND ${hi}`;
  const before = (lo: string, hi: string) => sql`c.previous_division_code BETWEEN ${lo} AND ${hi}`;
  const within = (lo: string, hi: string) => sql`(${now(lo, hi)} OR ${before(lo, hi)})`;
  const prefix = filter.divisionPrefix
    ? { lo: filter.divisionPrefix, hi: subtreeEnd(filter.divisionPrefix) }
    : null;
  if (filter.scope) conditions.push(within(filter.scope.lo, filter.scope.hi));
  if (prefix) conditions.push(within(prefix.lo, prefix.hi));
  // Divisions outside the jurisdiction are not served: the province an entity left learns that it left.
  const scoped = (column: SQL) =>
    filter.scope
      ? sql`CASE WHEN ${column} BETWEEN ${filter.scope.lo} AND ${filter.scope.hi} THEN ${column} END`
      : column;
  const area = prefix ?? filter.scope;
  const left = area ? sql`(${before(area.lo, area.hi)} AND NOT ${now(area.lo, area.hi)})` : sql`false`;
  return sql`SELECT c.seq, c.action, c.record_key AS uscc, c.version,
                    ${scoped(sql`c.division_code`)} AS "divisionCode",
                    ${scoped(sql`c.previous_division_code`)} AS "previousDivisionCode",
                    coalesce(${left}, false) AS "leftArea",
                    c.changed_fields AS "changedFields", c.at, c.source_dept AS "sourceDept", c.batch
               FROM change_log c WHERE ${sql.join(conditions, sql` AND `)}
              ORDER BY c.seq LIMIT ${limit}`;
}

/** Changes after `after` (a seq; up to `upTo` when given) visible through `filter`, oldest first. */
export async function readEntityChanges(
  db: Database,
  after: number,
  limit: number,
  filter: ChangeFilter,
  upTo: number | null = null,
): Promise<EntityChangeRow[]> {
  if (filter.actions.length === 0) return [];
  const found = await rows<EntityChangeRow>(db, entityChangesSql(after, limit, filter, upTo));
  return found.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/**
 * The highest committed seq. Writers of the log serialise on one lock until they commit, so every row
 * not yet visible will carry a higher seq: a consumer may safely resume from here.
 */
export async function changeLogHead(db: Database): Promise<number> {
  const [row] = await rows<{ seq: number | null }>(db, sql`SELECT max(seq) AS seq FROM change_log`);
  return Number(row?.seq ?? 0);
}

/**
 * One LISTEN per database handle, fanned out to every subscription of this process, so a thousand
 * subscribers hold one connection, not a thousand. Listening starts with the first subscriber and stops
 * with the last.
 */
export class ChangeHub {
  private readonly subscribers = new Set<(seq: number) => void>();
  private listening: Promise<() => Promise<void>> | null = null;

  constructor(private readonly db: Database) {}

  /** Resolves once LISTEN is active (so nothing committed afterwards is missed); returns the unsubscribe. */
  async subscribe(onChange: (seq: number) => void): Promise<() => Promise<void>> {
    this.subscribers.add(onChange);
    if (!this.listening) {
      this.listening = this.db.listen(CHANGE_CHANNEL, (payload) => {
        const seq = Number(payload);
        for (const subscriber of this.subscribers) subscriber(Number.isFinite(seq) ? seq : 0);
      });
      this.listening.catch(() => {
        this.listening = null;
      });
    }
    try {
      await this.listening;
    } catch (error) {
      this.subscribers.delete(onChange);
      throw error;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.subscribers.delete(onChange);
      if (this.subscribers.size === 0 && this.listening) {
        const listening = this.listening;
        this.listening = null;
        await (await listening)();
      }
    };
  }

  get size(): number {
    return this.subscribers.size;
  }
}

const hubs = new WeakMap<Database, ChangeHub>();

export function changeHub(db: Database): ChangeHub {
  let hub = hubs.get(db);
  if (!hub) {
    hub = new ChangeHub(db);
    hubs.set(db, hub);
  }
  return hub;
}

/**
 * A push stream of entity changes after `after` (null = from now): the backlog first, then each change as
 * it is committed, read with `filter`. Closing the iterator (`return()`) stops listening, even while it
 * waits for the next change.
 */
export async function entityChangeStream(
  db: Database,
  filter: ChangeFilter,
  after: number | null,
  pageSize = 500,
): Promise<AsyncIterableIterator<EntityChangeRow>> {
  let wake: (() => void) | null = null;
  let closed = false;
  const queue: EntityChangeRow[] = [];
  // The highest seq known to be committed; the stream has read everything visible up to `cursor`.
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

  const iterator: AsyncIterableIterator<EntityChangeRow> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      try {
        while (!closed) {
          const next = queue.shift();
          if (next) return { value: next, done: false };
          if (cursor < head) {
            // Read up to the committed head; rows this consumer may not see are skipped, not re-scanned.
            const upTo = head;
            const page = await readEntityChanges(db, cursor, pageSize, filter, upTo);
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

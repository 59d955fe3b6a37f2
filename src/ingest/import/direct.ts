import { csvField, type Queryable, type Transaction } from '../../db/index.ts';
import { REPEATS } from './checks.ts';
import type { MergeContext, RegistrySpec } from './spec.ts';
import type { StagedRow } from './storage-row.ts';

/**
 * The direct path of an import. A row that names a record the registry does not hold, and whose every
 * check Node can decide, is written straight into the registry table by COPY (with its lineage) inside the
 * batch's transaction, instead of being staged and merged by INSERT … SELECT: a bulk load of new records
 * then writes each row once. Every other row is staged as before — updates, a duplicate of a staged row,
 * and any row Node cannot vouch for (a division code it does not know, a reference to resolve in SQL, a
 * field a new record lacks) — so each refusal still comes from the one set-based check that words it.
 *
 * Node decides what the staged checks would have found for a new record:
 * - the key is in neither the registry (probed per chunk) nor an earlier row of the delivery (the
 *   delivery's keys so far, with where each went: a later row repeating a directly written one is refused
 *   here, with the staged check's reason; one repeating a staged row is staged too);
 * - each declared division column names a current division (the divisions are read once per import);
 * - the source's jurisdiction covers one of the declared jurisdiction columns;
 * - every field a new record needs is there, and no field is set that only SQL can resolve (a target
 *   with an expression, such as persons' household by its number, or a staged column that is no target).
 *
 * The probes and the ids go through `lookup`: on a server another connection than the transaction's, so
 * they run while the transaction COPYs the chunk before (the registry as committed is what they must see;
 * keys the batch itself wrote are known from the delivery). A record another session commits meanwhile
 * under a key written here fails the COPY on the unique key: the batch rolls back and a rerun completes it.
 */

/** What a registry declares to allow the direct path (and what its reference checks read too). */
export interface DirectDeclaration {
  /** Division-code columns that must name a current division. */
  divisions: readonly string[];
  /** Columns of which one must lie in the source's jurisdiction (when the source has one). */
  jurisdiction: readonly string[];
  /** The table has a version column: a new record is version 1. */
  versioned: boolean;
}

/** Direct rows of a chunk, their ids drawn and their stored form on its way. */
export interface PreparedRows {
  ids: string[];
  rowNos: readonly number[];
  text: Promise<(string | Uint8Array)[]>;
}

/** Where the rows of one chunk go. */
export interface Routed {
  direct: number[];
  staged: number[];
}

const literal = (sql: string | undefined): string | null => {
  const m = sql ? /^'([^']*)'$/.exec(sql) : null;
  return m ? m[1]! : null;
};

/**
 * The delivery's keys are kept in memory up to this many (≈ 120 MB): a row repeating a directly written one
 * must be refused here, since no staged check sees it. The rows after the limit are all staged — the keys
 * kept still catch repeats of direct rows, and SQL those among staged rows.
 */
const KEY_LIMIT = 1_000_000;

/** A key of its own: one sliced from a delivery line would keep the whole chunk read alive. */
const kept = (key: string) => (' ' + key).slice(1);

/** The refusal of a row that repeats an earlier row's key, worded as checks.ts duplicateKeys words it. */
export const repeatsReason = (first: number) => `${REPEATS}${first}`;

export class DirectPath {
  /** The delivery's keys so far: the row that first gave each, negative when that row was staged. */
  private readonly seen = new Map<string, number>();
  /** Keys kept at most (≈ 120 bytes each); the rows after the limit are all staged. */
  private readonly keyLimit: number;
  private readonly keyColumn: string;
  private readonly lookupColumn: string;
  private readonly mustBeEmpty: string[];
  private readonly required: string[];
  private readonly defaults: [string, string][];
  /** The registry table's columns the COPY writes after `id`, and its COPY target. */
  readonly columns: string[];
  readonly target: string;
  inserted = 0;

  private constructor(
    private readonly spec: RegistrySpec,
    private readonly declared: DirectDeclaration,
    private readonly ctx: MergeContext,
    private readonly divisionCodes: ReadonlySet<string>,
    private readonly lookup: Queryable,
    keyLimit: number,
  ) {
    this.keyLimit = keyLimit;
    const storage = ctx.storage;
    this.keyColumn = spec.key[0]!;
    this.lookupColumn = storage.compareColumn(spec.table, this.keyColumn);
    const plain = spec.targets.filter((t) => !t.expr && t.from === t.column);
    const plainNames = new Set(plain.map((t) => t.column));
    this.mustBeEmpty = spec.columns.filter((c) => !plainNames.has(c.name)).map((c) => c.name);
    this.required = spec.columns.filter((c) => c.requiredOnInsert).map((c) => c.name);
    this.defaults = plain.flatMap((t) => {
      const value = literal(t.insertDefault);
      return value === null ? [] : [[t.column, value] as [string, string]];
    });
    this.columns = [
      ...plain.flatMap((t) => storage.storedColumns(spec.table, t.column)),
      'source_dept',
      'source_batch',
    ];
    this.target = `${spec.table} (id, ${this.columns.join(', ')})`;
  }

  /**
   * The direct path of `spec` for this import, or null when the registry declares none, its key has more
   * than one column, or a target's insert default is more than a literal (then every row is staged).
   */
  static async open(
    spec: RegistrySpec,
    ctx: MergeContext,
    lookup: Queryable,
    keyLimit = KEY_LIMIT,
  ): Promise<DirectPath | null> {
    const declared = spec.direct;
    if (!declared || spec.key.length !== 1) return null;
    const plain = spec.targets.filter((t) => !t.expr && t.from === t.column);
    if (plain.some((t) => t.insertDefault !== undefined && literal(t.insertDefault) === null)) return null;
    const codes =
      declared.divisions.length === 0
        ? new Set<string>()
        : new Set(
            (await ctx.db.query<{ code: string }>(`SELECT code FROM divisions WHERE valid_to IS NULL`)).map(
              (d) => d.code,
            ),
          );
    return new DirectPath(spec, declared, ctx, codes, lookup, keyLimit);
  }

  /** What Node can tell of a new record from this row alone (see the module comment). */
  private vouchesFor(row: StagedRow): boolean {
    for (const name of this.mustBeEmpty) if (row[name] != null) return false;
    for (const name of this.required) if (row[name] == null) return false;
    for (const name of this.declared.divisions) {
      const code = row[name];
      if (code != null && !this.divisionCodes.has(code)) return false;
    }
    const scope = this.ctx.source.scope;
    if (scope) {
      const inside = this.declared.jurisdiction.some((name) => {
        const code = row[name];
        return code != null && code >= scope.lo && code <= scope.hi;
      });
      if (!inside) return false;
    }
    return true;
  }

  /**
   * Splits a chunk of rows (in delivery order) into direct and staged; a row repeating a directly written
   * one is refused through `refuse` and goes nowhere, one with a refusal already (`clean` false) is staged.
   * One query probes the chunk's keys.
   */
  async route(
    rows: readonly StagedRow[],
    rowNos: readonly number[],
    clean: readonly boolean[],
    refuse: (rowNo: number, field: string, reason: string) => void,
  ): Promise<Routed> {
    const storage = this.ctx.storage;
    const keys = rows.map((row) => storage.lookupKey(this.spec.table, this.keyColumn, row[this.keyColumn]!)!);
    const routed: Routed = { direct: [], staged: [] };
    const open = this.seen.size < this.keyLimit;
    const held = open
      ? new Set(
          (
            await this.lookup.query<{ k: string }>(
              `SELECT ${this.lookupColumn} AS k FROM ${this.spec.table} WHERE ${this.lookupColumn} = ANY($1::text[])`,
              [keys],
            )
          ).map((r) => r.k),
        )
      : null;
    for (let i = 0; i < rows.length; i++) {
      const key = keys[i]!;
      const rowNo = rowNos[i]!;
      const first = this.seen.get(key);
      if (first !== undefined) {
        if (first > 0) refuse(rowNo, this.keyColumn, repeatsReason(first));
        else routed.staged.push(i);
      } else if (this.seen.size >= this.keyLimit) {
        // Past the limit a key is no longer kept: the row is staged, where SQL finds its repeats.
        routed.staged.push(i);
      } else if (clean[i] && !held!.has(key) && this.vouchesFor(rows[i]!)) {
        this.seen.set(kept(key), rowNo);
        routed.direct.push(i);
      } else {
        this.seen.set(kept(key), -rowNo);
        routed.staged.push(i);
      }
    }
    return routed;
  }

  /**
   * Readies the direct rows of a chunk: ids drawn from the table's sequence, the rows in stored form being
   * sealed by `seal` (their COPY text after each head). `write` then COPYs them, in chunk order.
   */
  async prepare(
    rows: StagedRow[],
    rowNos: readonly number[],
    seal: (
      columns: readonly string[],
      heads: string[],
      rows: StagedRow[],
    ) => Promise<(string | Uint8Array)[]>,
  ): Promise<PreparedRows> {
    // One text of ids, not a result row per id.
    const [drawn] = await this.lookup.query<{ ids: string }>(
      `SELECT string_agg(nextval(pg_get_serial_sequence($1, 'id'))::text, ',') AS ids
         FROM generate_series(1, $2)`,
      [this.spec.table, rows.length],
    );
    const ids = drawn!.ids.split(',');
    const { source, batchId } = this.ctx;
    for (const row of rows) {
      for (const [column, value] of this.defaults) row[column] ??= value;
      row.source_dept = source.code;
      row.source_batch = batchId;
    }
    const text = seal(this.columns, ids, rows);
    // Awaited by `write`, after the COPYs of the chunks before: a failure meanwhile is not unhandled.
    text.catch(() => undefined);
    return { ids, rowNos, text };
  }

  /** COPYs prepared rows into the table, then one lineage row each. */
  async write(tx: Transaction, prepared: PreparedRows): Promise<void> {
    const { ids, rowNos } = prepared;
    if (ids.length === 0) return;
    await tx.copyCsv(this.target, await prepared.text);
    const batchId = this.ctx.batchId;
    const lineageHead = `${csvField(batchId)},`;
    const lineageTail = `,${csvField(this.spec.recordType)},`;
    const version = this.declared.versioned ? '1' : '';
    let lineage = '';
    for (let i = 0; i < ids.length; i++) {
      lineage += `${lineageHead}${rowNos[i]}${lineageTail}${ids[i]},${version},inserted\n`;
    }
    await tx.copyCsv('import_lineage (batch_id, row_no, record_type, record_id, version, action)', [lineage]);
    this.inserted += ids.length;
  }
}

import { userInfo } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { postgis } from '@electric-sql/pglite-postgis';
import type { Logger } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { from as copyFromStdin } from 'pg-copy-streams';
import * as schema from '../../schema/index.ts';

export type AppDb = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Row = Record<string, unknown>;

/** Anything that runs parameterised SQL: the database, or a transaction on it. */
export interface Queryable {
  query<T = Row>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

/** Counts every statement sent, raw or through drizzle, so tests can assert there is no N+1. */
export interface StatementCounter {
  count: number;
  /** When set, each statement's text is appended (tests snapshot key SQL). */
  log?: string[];
}

/** COPY input: whole CSV lines, as text or UTF-8 bytes. */
export type CopyChunks = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/** A transaction: its statements, and COPY into its tables (visible, like its writes, only at commit). */
export interface Transaction extends Queryable {
  /** COPY `target` FROM CSV chunks inside the transaction; each chunk holds whole lines. */
  copyCsv(target: string, chunks: CopyChunks): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  readonly db: AppDb;
  readonly counter: StatementCounter;
  /** Several statements without parameters (migrations, DDL). */
  exec(text: string): Promise<void>;
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /** COPY `target` (e.g. `persons (id, name)`) FROM CSV chunks; each chunk holds whole lines. */
  copyCsv(target: string, chunks: CopyChunks): Promise<void>;
  /** LISTEN on a channel; resolves to the function that stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** Embedded only: the data folder as a gzipped tarball (test templates, backups). */
  dumpDataDir?(): Promise<Blob>;
}

export interface OpenOptions {
  /** postgres:// URL; unset means embedded PGlite. */
  url?: string | undefined;
  /** PGlite data folder, or 'memory://' for a throw-away database. */
  dataDir?: string;
  /** PGlite: start from this dumped data folder (a migrated template). */
  loadDataDir?: Blob;
  statementTimeoutMs?: number;
  /** Pool size on the server. @default 10 */
  poolSize?: number;
}

// Same JavaScript values on both drivers: int8 as number (our counts and ids stay below 2^53),
// dates as 'YYYY-MM-DD' strings (no time-zone shifts), numeric as string (exact).
const INT8 = 20;
const DATE = 1082;
const NUMERIC = 1700;

function countingLogger(counter: StatementCounter): Logger {
  return {
    logQuery(query) {
      counter.count++;
      counter.log?.push(query);
    },
  };
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  return options.url ? openServer(options.url, options) : openEmbedded(options);
}

async function openEmbedded(options: OpenOptions): Promise<Database> {
  const counter: StatementCounter = { count: 0 };
  const client = await PGlite.create({
    dataDir: options.dataDir ?? 'memory://',
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    extensions: { postgis, pg_trgm },
    parsers: { [INT8]: (v: string) => Number(v), [DATE]: (v: string) => v, [NUMERIC]: (v: string) => v },
  });
  if (options.statementTimeoutMs) await client.exec(`SET statement_timeout = ${options.statementTimeoutMs}`);
  const db = drizzlePglite(client, { schema, logger: countingLogger(counter) }) as unknown as AppDb;

  const run = async <T>(q: Pick<PGlite, 'query'>, text: string, params?: readonly unknown[]) => {
    counter.count++;
    counter.log?.push(text);
    const result = await q.query<T>(text, params as unknown[] | undefined);
    return result.rows;
  };

  // PGlite reads COPY input from a blob; send bounded batches so memory stays flat.
  const copyFromBlobs = async (q: Pick<PGlite, 'query'>, target: string, chunks: CopyChunks) => {
    const limit = 16 * 1024 * 1024;
    let parts: (string | Uint8Array)[] = [];
    let size = 0;
    const flush = async () => {
      if (size === 0) return;
      counter.count++;
      await q.query(`COPY ${target} FROM '/dev/blob' WITH (FORMAT csv)`, [], {
        blob: new Blob(parts as BlobPart[]),
      });
      parts = [];
      size = 0;
    };
    for await (const chunk of chunks) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= limit) await flush();
    }
    await flush();
  };

  return {
    kind: 'pglite',
    db,
    counter,
    query: (text, params) => run(client, text, params),
    async exec(text) {
      counter.count++;
      await client.exec(text);
    },
    transaction: (work) =>
      client.transaction((tx) =>
        work({
          query: (text, params) => run(tx, text, params),
          copyCsv: (target, chunks) => copyFromBlobs(tx, target, chunks),
        }),
      ),
    copyCsv: (target, chunks) => copyFromBlobs(client, target, chunks),
    async listen(channel, onPayload) {
      const stop = await client.listen(channel, onPayload);
      return async () => stop();
    },
    close: () => client.close(),
    dumpDataDir: async () => client.dumpDataDir('gzip'),
  };
}

async function openServer(url: string, options: OpenOptions): Promise<Database> {
  const counter: StatementCounter = { count: 0 };
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => {
      if (oid === INT8) return (v: string) => Number(v);
      if (oid === DATE || oid === NUMERIC) return (v: string) => v;
      return pg.types.getTypeParser(oid, format as 'text');
    },
  };
  // libpq falls back to the OS user for socket URLs such as postgres:///govbase?host=/var/run/postgresql.
  const parsed = parseConnectionString(url);
  const pool = new pg.Pool({
    ...(parsed as pg.PoolConfig),
    user: parsed.user || process.env.PGUSER || userInfo().username,
    max: options.poolSize ?? 10,
    types: types as pg.CustomTypesConfig,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // Fail at open, not at the first request, when the server is unreachable.
  (await pool.connect()).release();
  const db = drizzlePg(pool, { schema, logger: countingLogger(counter) }) as unknown as AppDb;

  const run = async <T>(q: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]) => {
    counter.count++;
    counter.log?.push(text);
    const result = await q.query(text, params as unknown[] | undefined);
    return result.rows as T[];
  };

  const copyFromStdinOf = async (client: pg.PoolClient, target: string, chunks: CopyChunks) => {
    counter.count++;
    await pipeline(
      Readable.from(chunks),
      client.query(copyFromStdin(`COPY ${target} FROM STDIN WITH (FORMAT csv)`)),
    );
  };

  return {
    kind: 'postgres',
    db,
    counter,
    query: (text, params) => run(pool, text, params),
    async exec(text) {
      counter.count++;
      await pool.query(text);
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({
          query: (text, params) => run(client, text, params),
          copyCsv: (target, chunks) => copyFromStdinOf(client, target, chunks),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    async copyCsv(target, chunks) {
      const client = await pool.connect();
      try {
        await copyFromStdinOf(client, target, chunks);
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload) {
      const client = await pool.connect();
      const handler = (message: pg.Notification) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      };
      client.on('notification', handler);
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      return async () => {
        client.off('notification', handler);
        await client.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
        client.release();
      };
    },
    close: () => pool.end(),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export { csvField } from './csv-field.ts';

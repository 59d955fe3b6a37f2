import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installDemoAccess } from '../src/access/demo.ts';
import { openAtRest } from '../src/crypto/at-rest.ts';
import { type Database, openDatabase } from '../src/db/index.ts';
import { TEST_KEK, testDatabase } from '../src/testing/database.ts';
import { countRows, person, storedPerson, tempDir, writeCsv } from './import-fixtures.ts';

/**
 * Crash safety, shown with a real process: `npm run import` runs as a child process and is killed with
 * SIGKILL at a phase of the import (inside the merge transaction among them); the registry must be as it
 * was before, and a rerun must complete the batch with no duplicates. On PGlite the child opens the same
 * data folder the test then reopens (the database recovers from its own WAL, as after a power cut).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const url = process.env.DATABASE_URL;

let dir: string;
let dataDir: string | null = null;
let databaseUrl: string | null = null;
let dispose: () => Promise<void> = async () => undefined;
let file: string;
let seededIds: string[];
const ROWS = 3000;

/** Opens the test database from this process (PGlite: the data folder the child also uses). */
async function open(): Promise<Database> {
  const db = databaseUrl
    ? await openDatabase({ url: databaseUrl, poolSize: 2 })
    : await openDatabase({ dataDir: dataDir! });
  await openAtRest(db, Buffer.from(TEST_KEK, 'hex'));
  return db;
}

async function withDb<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const db = await open();
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

function runCli(holdAt: string | null): {
  child: ChildProcess;
  held: Promise<void>;
  exit: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'scripts/import.ts'),
      'persons',
      file,
      '--source',
      'MPS',
      '--by',
      'crash-test',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        GOVBASE_KEK: TEST_KEK,
        GOVBASE_IMPORT_HOLD_AT: holdAt ?? '',
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '', GOVBASE_DATA_DIR: dataDir! }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const held = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (holdAt && err.includes(`hold ${holdAt}`)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before holding: ${err}${out}`)));
  });
  held.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, held, exit, stderr: () => err + out };
}

interface Snapshot {
  persons: number;
  history: number;
  changeLog: number;
  lineage: number;
  versions: number[];
}

async function snapshot(db: Database): Promise<Snapshot> {
  const versions = [];
  for (const id of seededIds) versions.push((await storedPerson(db, id))!.version);
  return {
    persons: await countRows(db, 'persons'),
    history: await countRows(db, 'persons_history'),
    changeLog: await countRows(db, 'change_log'),
    lineage: await countRows(db, 'import_lineage'),
    versions,
  };
}

beforeAll(async () => {
  dir = tempDir();
  const db = await testDatabase();
  await installDemoAccess(db);
  // Persons the delivery will update (a move each): the update path must roll back too.
  const seeded = Array.from({ length: 20 }, () => person({ name: '崩溃前' }));
  seededIds = seeded.map((p) => p.id_number!);
  const { runImport } = await import('../src/ingest/import/pipeline.ts');
  await runImport(db, {
    registry: 'persons',
    input: { kind: 'file', path: writeCsv(dir, 'seed.csv', seeded) },
    sourceDept: 'MPS',
    submittedBy: 'test',
  });
  const rows = [
    ...seeded.map((p) => ({
      ...p,
      residence_division_code: '110108',
      residence_point: 'POINT(116.30 39.96)',
    })),
    ...Array.from({ length: ROWS - seeded.length }, (_v, i) => person({ name: `批量${i}` })),
  ];
  file = writeCsv(dir, 'big.csv', rows);
  if (url) {
    const [row] = await db.query<{ name: string }>('SELECT current_database() AS name');
    const parsed = new URL(url);
    parsed.pathname = `/${row!.name}`;
    databaseUrl = parsed.toString();
    dispose = () => db.dispose();
  } else {
    // The child needs the database on disk: the test's database, dumped into a data folder.
    dataDir = join(dir, 'pgdata');
    const blob = await db.dumpDataDir!();
    await db.dispose();
    const disk = await openDatabase({ dataDir, loadDataDir: blob });
    await disk.close();
    dispose = async () => rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

afterAll(async () => {
  await dispose();
});

describe('an import killed with SIGKILL', () => {
  it('leaves the registry as before at every phase, and a rerun completes the batch once', async () => {
    const before = await withDb(snapshot);
    // PGlite reopens its data folder for every check (slow on a loaded machine): the two telling phases.
    const phases = url
      ? ['staged', 'merge:checked', 'merge:written', 'merge:commit']
      : ['staged', 'merge:written'];
    for (const phase of phases) {
      const run = runCli(phase);
      await run.held;
      run.child.kill('SIGKILL');
      await run.exit;
      const after = await withDb(async (db) => {
        const [batch] = await db.query<{ status: string }>(
          `SELECT status FROM import_batches WHERE file_name = 'big.csv'`,
        );
        expect(batch?.status, `batch after a kill at ${phase}`).toBe('running');
        return snapshot(db);
      });
      expect(after, `registry after a kill at ${phase}`).toEqual(before);
    }

    const rerun = runCli(null);
    expect(await rerun.exit, rerun.stderr()).toBe(0);
    expect(rerun.stderr()).toMatch(new RegExp(`inserted ${ROWS - 20}, changed 20, unchanged 0`));
    await withDb(async (db) => {
      const after = await snapshot(db);
      expect(after.persons).toBe(before.persons + ROWS - 20);
      expect(after.history).toBe(before.history + 20);
      expect(after.lineage).toBe(before.lineage + ROWS);
      expect(after.versions).toEqual(before.versions.map((v) => v + 1));
      // No duplicates: one record per ID number, one registration per new person, one move per update.
      const [dupes] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT id_number_bidx FROM persons GROUP BY 1 HAVING count(*) > 1) d`,
      );
      expect(dupes!.n).toBe(0);
      const [batch] = await db.query<{ id: string; status: string; attempts: number }>(
        `SELECT id, status, attempts FROM import_batches WHERE file_name = 'big.csv'`,
      );
      expect(batch).toMatchObject({ status: 'merged', attempts: phases.length + 1 });
      const actions = await db.query<{ action: string; n: number }>(
        `SELECT action, count(*)::int AS n FROM change_log WHERE batch = $1 GROUP BY 1 ORDER BY 1`,
        [batch!.id],
      );
      expect(actions).toEqual([
        { action: 'moved', n: 20 },
        { action: 'registered', n: ROWS - 20 },
      ]);
      // The staging tables of the killed attempts are gone.
      expect(await countRows(db, 'pg_tables', `tablename LIKE 'import\\_stage\\_%'`)).toBe(0);
    });

    // And once more: the delivery is recognised, nothing changes.
    const again = runCli(null);
    expect(await again.exit).toBe(0);
    expect(again.stderr()).toContain(`merged before: nothing to do (${ROWS} rows unchanged)`);
  }, 900_000);
});

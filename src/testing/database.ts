import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAtRest } from '../crypto/at-rest.ts';
import { type Database, migrate, openDatabase, quoteIdent } from '../db/index.ts';
import { FIXTURES_DIR, loadReferenceData } from '../ingest/reference-data.ts';

/**
 * One suite, two databases: PGlite + PostGIS by default, the PostgreSQL server when DATABASE_URL is set.
 * A migrated database with the reference data is built once per run (the template) and every test file
 * gets its own copy, so tests never truncate each other's tables.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The key-encryption key of every test database (hex). The template's data keys are wrapped by it, so all
 * copies share them. Child processes of tests (CLIs) get it as GOVBASE_KEK.
 */
export const TEST_KEK = '746573742d6b656b2d6f662d676f76626173652d6e6f742d666f722d7265616c21';
const CACHE_DIR = join(ROOT, '.cache');
/**
 * Each test run builds its own template database on the server, so concurrent runs (two developers, or CI
 * beside a developer) never drop each other's template. The name reaches the workers through the env.
 */
export function templateDb(): string {
  return process.env.GOVBASE_TEST_TEMPLATE ?? 'govbase_test_template';
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A digest of what shapes the template, so a stale cached template is never reused. */
function templateDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(name).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'migrations'));
  walk(FIXTURES_DIR);
  hash.update(readFileSync(join(ROOT, 'src/ingest/reference-data.ts')));
  hash.update(readFileSync(join(ROOT, 'src/crypto/keyring.ts')));
  hash.update(readFileSync(join(ROOT, 'src/crypto/field-cipher.ts')));
  return hash.digest('hex').slice(0, 16);
}

function templatePath(): string {
  return join(CACHE_DIR, `test-template-${templateDigest()}.tar.gz`);
}

/** Builds the template once per run (vitest globalSetup); returns the teardown that drops it. */
export async function prepareTemplate(): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `govbase_test_template_${process.pid}`;
    process.env.GOVBASE_TEST_TEMPLATE = name;
    const admin = await openDatabase({ url: withDatabaseName(url, 'postgres'), poolSize: 1 });
    try {
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.exec(`CREATE DATABASE ${name}`);
    } finally {
      await admin.close();
    }
    const template = await openDatabase({ url: withDatabaseName(url, name), poolSize: 2 });
    try {
      await migrate(template);
      await loadReferenceData(template);
      await openAtRest(template, Buffer.from(TEST_KEK, 'hex'));
    } finally {
      await template.close();
    }
    return async () => {
      const cleanup = await openDatabase({ url: withDatabaseName(url, 'postgres'), poolSize: 1 });
      await cleanup.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => cleanup.close());
    };
  }
  const path = templatePath();
  if (existsSync(path)) return async () => undefined;
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrate(database);
  await loadReferenceData(database);
  await openAtRest(database, Buffer.from(TEST_KEK, 'hex'));
  const dump = await database.dumpDataDir!();
  mkdirSync(CACHE_DIR, { recursive: true });
  // Written under a temporary name and renamed, so a concurrent run never reads half a file.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, path);
  await database.close();
  return async () => undefined;
}

export interface TestDatabase extends Database {
  /** Closes and, on the server, drops this test's copy. */
  dispose(): Promise<void>;
  /** On the server: the copy's connection string (for child processes such as the CLIs). */
  url?: string;
}

let counter = 0;

/** A fresh, migrated database with the reference data, private to the caller. */
export async function testDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `govbase_test_${process.pid}_${++counter}_${Date.now() % 100000}`;
    const admin = await openDatabase({ url: withDatabaseName(url, 'postgres'), poolSize: 1 });
    try {
      await admin.exec(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateDb())}`);
    } finally {
      await admin.close();
    }
    const database = await openDatabase({ url: withDatabaseName(url, name), poolSize: 5 });
    await openAtRest(database, Buffer.from(TEST_KEK, 'hex'));
    return Object.assign(database, {
      url: withDatabaseName(url, name),
      async dispose() {
        await database.close();
        const cleanup = await openDatabase({ url: withDatabaseName(url, 'postgres'), poolSize: 1 });
        await cleanup
          .exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
          .finally(() => cleanup.close());
      },
    });
  }
  const blob = new Blob([readFileSync(templatePath())]);
  const database = await openDatabase({ dataDir: 'memory://', loadDataDir: blob });
  await openAtRest(database, Buffer.from(TEST_KEK, 'hex'));
  return Object.assign(database, { dispose: () => database.close() });
}

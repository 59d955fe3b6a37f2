/**
 * npm run bench -- [--persons N] [--entities N] [--import-rows N] [--quick] [--only suite,suite]
 * Suites: generator, population, access, spatial (generates the thematic layers), legal-entity (generates
 * --entities entities), quality, import (--import-rows persons from CSV vs a bare COPY of the file).
 * Builds a fresh benchmark database (embedded in memory, or a `govbase_bench` database beside
 * DATABASE_URL's, named by GOVBASE_BENCH_DB), generates the population, runs each suite, and prints figures as ratios against
 * baselines measured in the same run. Writes reports/bench-<time>.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { installDemoAccess } from '../src/access/demo.ts';
import { loadConfig } from '../src/config.ts';
import { openAtRest } from '../src/crypto/at-rest.ts';
import { type Database, migrate, openDatabase, quoteIdent } from '../src/db/index.ts';
import { createGateway } from '../src/gateway/server.ts';
import { loadReferenceData } from '../src/ingest/reference-data.ts';
import { allowAllPrincipal, type BenchContext, post } from './bench/context.ts';
import { benchCrypto } from './bench/crypto.ts';
import { benchGenerator } from './bench/generator.ts';
import { type Comparison, report } from './bench/harness.ts';
import { benchImport } from './bench/import.ts';
import { benchLegalEntity } from './bench/legal-entity.ts';
import { benchPopulationReads } from './bench/population.ts';
import { benchQuality } from './bench/quality.ts';
import { benchSpatial } from './bench/spatial.ts';
import { benchTags } from './bench/tags.ts';

const { values } = parseArgs({
  options: {
    persons: { type: 'string', default: '' },
    entities: { type: 'string', default: '' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: '' },
    'crypto-persons': { type: 'string', default: '' },
    'import-rows': { type: 'string', default: '' },
  },
});

/** GOVBASE_BENCH_DB names the server database, so two benchmark runs on one server do not drop each other's. */
async function openBenchDatabase(url: string | undefined): Promise<Database> {
  if (!url) return openDatabase({ dataDir: 'memory://' });
  const name = process.env.GOVBASE_BENCH_DB ?? 'govbase_bench';
  const admin = await openDatabase({ url, poolSize: 1 });
  await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.exec(`CREATE DATABASE ${quoteIdent(name)}`);
  await admin.close();
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return openDatabase({ url: parsed.toString(), poolSize: 10 });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const only = new Set(values.only ? values.only.split(',') : []);
  const wanted = (suite: string) => only.size === 0 || only.has(suite);
  const server = !!config.databaseUrl;
  const entities = wanted('legal-entity')
    ? Number(
        values.entities || (server ? (values.quick ? 100_000 : 1_000_000) : values.quick ? 5_000 : 20_000),
      )
    : 0;
  if (!Number.isInteger(entities) || entities < 0) throw new Error('--entities must be a whole number');
  // The entities only need persons to draw legal representatives and shareholders from: alone, the
  // legal-entity suite generates one person per five entities (reused across entities), not the full population.
  const entitiesOnly = only.size > 0 && [...only].every((s) => s === 'legal-entity');
  const persons = Number(
    values.persons ||
      (entitiesOnly ? Math.max(20_000, Math.ceil(entities / 5)) : server ? 1_000_000 : 200_000),
  );
  if (!Number.isInteger(persons) || persons < 1000) throw new Error('--persons must be an integer ≥ 1000');
  const db = await openBenchDatabase(config.databaseUrl);
  const sizes = `${persons.toLocaleString()} persons${entities ? `, ${entities.toLocaleString()} entities` : ''}`;
  console.log(`bench: ${db.kind}, ${sizes}${values.quick ? ' (quick)' : ''}`);
  await migrate(db);
  await loadReferenceData(db);
  await installDemoAccess(db);
  // Sensitive columns are encrypted at rest; the benchmark database is thrown away, and so is its key.
  await openAtRest(db, randomBytes(32));

  const comparisons: Comparison[] = [];
  comparisons.push(...(await benchGenerator(db, persons, wanted('generator'))));
  const benchConfig = { ...config, mode: 'production' as const };
  const ctx: BenchContext = {
    db,
    gateway: createGateway({ db, config: benchConfig }),
    gatewayOpen: createGateway({
      db,
      config: benchConfig,
      audit: false,
      fixedPrincipal: allowAllPrincipal(),
    }),
    persons,
    quick: values.quick,
    post,
  };
  if (wanted('population') || wanted('access'))
    comparisons.push(
      ...(await benchPopulationReads(ctx, { population: wanted('population'), access: wanted('access') })),
    );
  if (wanted('spatial')) comparisons.push(...(await benchSpatial(ctx, benchConfig)));
  if (wanted('legal-entity')) comparisons.push(...(await benchLegalEntity(ctx, entities)));
  // After legal-entity, so the passes cover the entities when that suite generated them.
  if (wanted('quality')) comparisons.push(...(await benchQuality(ctx)));
  if (wanted('tags')) comparisons.push(...(await benchTags(ctx)));
  // crypto: the encryption at rest against the same code without cryptography, on two fresh databases of
  // --crypto-persons persons each (generator, person by ID, a 1000-row page).
  if (wanted('crypto')) {
    const cryptoPersons = Number(
      values['crypto-persons'] || (values.quick ? 20_000 : server ? 200_000 : 50_000),
    );
    if (!Number.isInteger(cryptoPersons) || cryptoPersons < 5000)
      throw new Error('--crypto-persons must be an integer ≥ 5000');
    comparisons.push(...(await benchCrypto(ctx, benchConfig, cryptoPersons)));
  }
  if (wanted('import')) {
    const rows = Number(values['import-rows'] || (values.quick ? 100_000 : 1_000_000));
    if (!Number.isInteger(rows) || rows < 1000) throw new Error('--import-rows must be an integer ≥ 1000');
    comparisons.push(...(await benchImport(ctx, rows)));
  }

  const table = report(comparisons);
  const header = `# govbase bench — ${new Date().toISOString()}\n\n${db.kind}, ${sizes}, ${process.version}\n\n`;
  console.log(`\n${table}`);
  mkdirSync('reports', { recursive: true });
  const path = `reports/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.md`;
  writeFileSync(path, `${header}${table}\n`);
  console.log(`\nwritten to ${path}`);
  await db.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/**
 * `npm run generate -- --persons N --seed S [--defects kind=rate,…] [--entities N [--entity-defects kind=rate,…]]
 *   [--manifest path.json] [--as-of YYYY-MM-DD]`
 *
 * Generates a synthetic population — then, with --entities, legal entities drawn on the persons in the
 * database — into the database of the environment (DATABASE_URL, else PGlite in GOVBASE_DATA_DIR),
 * migrating it and loading the reference data first if needed, and writes the manifest of injected defects. Exit codes: 0 done, 1 failed, 2 bad arguments.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openAtRestFromConfig } from '../src/crypto/at-rest.ts';
import { developmentKekNotice } from '../src/crypto/keyring.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import { parseCliArgs, USAGE, UsageError } from '../src/ingest/generate/cli-args.ts';
import {
  ENTITY_DEFECT_KINDS,
  type EntityManifest,
  generateEntities,
} from '../src/ingest/generate/entities.ts';
import { DEFECT_KINDS, generatePopulation } from '../src/ingest/generate/population.ts';
import { loadReferenceData } from '../src/ingest/reference-data.ts';

async function main(): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`generate: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args === null) {
    console.log(USAGE);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`generate: ${error.message}`);
      return 2;
    }
    throw error;
  }

  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir}`;
  console.error(`generate: opening ${where}`);
  const db: Database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(db);
    const { kek } = await openAtRestFromConfig(db, config);
    if (kek.development) console.error(developmentKekNotice(kek));
    const loaded = await loadReferenceData(db);
    if (loaded.divisions > 0)
      console.error(`generate: loaded ${loaded.divisions} divisions and their boundaries`);

    const bar = new cliProgress.SingleBar(
      {
        format: 'generate [{bar}] {percentage}% | {value}/{total} persons | {rate}/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 20,
        // Without a terminal (CI logs), a line every 5 s.
        noTTYOutput: true,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    const { persons } = args.options;
    const started = performance.now();
    bar.start(persons, 0, { rate: 0 });
    let manifest: Awaited<ReturnType<typeof generatePopulation>>;
    try {
      manifest = await generatePopulation(db, {
        ...args.options,
        onProgress: (done) => {
          const seconds = (performance.now() - started) / 1000;
          bar.update(done, { rate: Math.round(done / Math.max(seconds, 1e-3)) });
        },
      });
    } finally {
      bar.stop();
    }
    const seconds = (performance.now() - started) / 1000;

    let legalEntities: EntityManifest | null = null;
    if (args.entities && args.entities.entities > 0) {
      const entityBar = new cliProgress.SingleBar(
        {
          format: 'entities [{bar}] {percentage}% | {value}/{total} entities | ETA {eta_formatted}',
          hideCursor: true,
          noTTYOutput: true,
          notTTYSchedule: 5000,
        },
        cliProgress.Presets.shades_classic,
      );
      entityBar.start(args.entities.entities, 0);
      try {
        legalEntities = await generateEntities(db, {
          ...args.entities,
          onProgress: (done) => entityBar.update(done),
        });
      } finally {
        entityBar.stop();
      }
    }

    const path = resolve(args.manifestPath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      `${JSON.stringify(legalEntities ? { ...manifest, legalEntities } : manifest, null, 2)}\n`,
    );

    const defects = DEFECT_KINDS.filter((k) => manifest.defects[k].personIds.length > 0)
      .map((k) => `${k} ${manifest.defects[k].personIds.length}`)
      .join(', ');
    console.log(
      `generated ${manifest.persons} persons in ${manifest.households} households in ${seconds.toFixed(1)} s ` +
        `(${Math.round(manifest.persons / Math.max(seconds, 1e-3))} persons/s) on ${db.kind}, batch ${manifest.batch}`,
    );
    console.log(`defects: ${defects || 'none'}`);
    if (legalEntities) {
      const entityDefects = ENTITY_DEFECT_KINDS.filter((k) => legalEntities.defects[k].length > 0)
        .map((k) => `${k} ${legalEntities.defects[k].length}`)
        .join(', ');
      const { person, entity, other } = legalEntities.shareholdings;
      console.log(
        `generated ${legalEntities.entities} entities (${legalEntities.branches} branches), ` +
          `${person + entity + other} shareholdings (${entity} by entities; ${legalEntities.chains.length} deep chains, ` +
          `${legalEntities.cycles.length} cycles), ${legalEntities.qualifications} qualifications, ` +
          `${legalEntities.onlineShops} online shops`,
      );
      console.log(
        `entity defects: ${entityDefects || 'none'}${legalEntities.notes.length ? ` (${legalEntities.notes.join('; ')})` : ''}`,
      );
    }
    console.log(`manifest: ${path}`);
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `generate: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  },
);

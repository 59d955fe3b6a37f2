/**
 * npm run import -- <registry> <file> --source DEPT [--batch ID] [--dry-run] [--format csv|ndjson|geojson]
 *                   [--crs EPSG:4490|EPSG:4326] [--layer LAYER] [--by WHO]
 * npm run import -- --list [--registry R] [--limit N]
 *
 * Imports a delivery (CSV, NDJSON, GeoJSON) into a registry (persons, households, entities, features, or attribute
 * values: record_type, record_key, code, value) of the database
 * of the environment (DATABASE_URL, else the embedded one in GOVBASE_DATA_DIR): streams and validates every
 * row, stages it with COPY, checks references in SQL, merges the accepted rows in one transaction (history,
 * lineage and the change log come with it) and writes the refused rows to <file>.rejects.csv
 * (row, field, reason). The same file again changes nothing. Exit codes:
 *   0 every row accepted (or the delivery was merged before), 1 merged with rejected rows,
 *   2 bad arguments or an unreadable delivery (nothing written), 3 the import failed (nothing merged).
 *
 * The keys of the encryption at rest come from GOVBASE_KEK / GOVBASE_KEK_FILE (src/crypto/at-rest.ts).
 * GOVBASE_IMPORT_HOLD_AT=<phase> (tests): on reaching the phase (staged, validated, merge:checked,
 * merge:written, merge:commit) print `hold <phase>` on stderr and wait to be killed.
 */
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openAtRestFromConfig } from '../src/crypto/at-rest.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import { ImportError, listBatches } from '../src/ingest/import/batches.ts';
import { type ImportPhase, type ImportReport, runImport } from '../src/ingest/import/pipeline.ts';

export const EXIT = { ok: 0, rejected: 1, usage: 2, failed: 3 } as const;

const USAGE = `usage: npm run import -- <persons|households|entities|features|attributes> <file> --source DEPT [--batch ID] [--dry-run]
                         [--format csv|ndjson|geojson] [--crs EPSG:4490|EPSG:4326] [--layer LAYER] [--by WHO]
       npm run import -- --list [--registry R] [--limit N]`;

export interface MainOptions {
  db?: Database;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  error?: (line: string) => void;
  progress?: boolean;
}

function summary(r: ImportReport): string {
  const head =
    r.status === 'already_merged'
      ? `batch ${r.batchId} was merged before: nothing to do (${r.accepted} rows unchanged)`
      : `batch ${r.batchId}${r.status === 'dry_run' ? ' (dry run: nothing written)' : ''}`;
  return [
    head,
    `  rows ${r.totalRows}: accepted ${r.accepted}, rejected ${r.rejected}`,
    `  inserted ${r.inserted}, changed ${r.changed}, unchanged ${r.unchanged}`,
    ...(r.rejectsFile ? [`  rejects: ${r.rejectsFile}`] : []),
  ].join('\n');
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        source: { type: 'string' },
        batch: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        format: { type: 'string' },
        crs: { type: 'string' },
        layer: { type: 'string' },
        by: { type: 'string' },
        list: { type: 'boolean', default: false },
        registry: { type: 'string' },
        limit: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    log(USAGE);
    return EXIT.ok;
  }
  const [registry, file] = positionals;
  if (!values.list && (!registry || !file || !values.source || positionals.length > 2)) {
    error(USAGE);
    return EXIT.usage;
  }
  if (values.format && !['csv', 'ndjson', 'geojson'].includes(values.format as string)) {
    error(`--format must be csv, ndjson or geojson\n${USAGE}`);
    return EXIT.usage;
  }

  let db = options.db;
  let opened = false;
  try {
    if (!db) {
      const config = loadConfig(env);
      db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      opened = true;
      await migrate(db);
      // Sensitive fields are encrypted at rest: the import writes them through the database's codec.
      await openAtRestFromConfig(db, config);
    }
    if (values.list) {
      const limit = Number(values.limit ?? 50);
      const batches = await listBatches(db, { registry: (values.registry as string) ?? null, limit });
      log(
        'batch'.padEnd(44) +
          'registry'.padEnd(10) +
          'source'.padEnd(14) +
          'status'.padEnd(9) +
          'started'.padEnd(21) +
          'by'.padEnd(16) +
          'rows accepted rejected inserted changed unchanged',
      );
      for (const b of batches) {
        log(
          b.id.padEnd(44) +
            b.registry.padEnd(10) +
            b.sourceDept.padEnd(14) +
            b.status.padEnd(9) +
            new Date(b.startedAt).toISOString().slice(0, 19).padEnd(21) +
            b.submittedBy.slice(0, 15).padEnd(16) +
            [b.totalRows, b.accepted, b.rejected, b.inserted, b.changed, b.unchanged].join(' '),
        );
      }
      return EXIT.ok;
    }

    const holdAt = env.GOVBASE_IMPORT_HOLD_AT as ImportPhase | undefined;
    const showProgress = options.progress ?? process.stderr.isTTY === true;
    const bar = showProgress
      ? new cliProgress.SingleBar(
          {
            format: `import ${registry} {bar} {percentage}% | {rows} rows | {phase}`,
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    bar?.start(100, 0, { rows: 0, phase: 'reading' });
    let report: ImportReport;
    try {
      report = await runImport(db, {
        registry: registry!,
        input: { kind: 'file', path: file!, format: values.format as 'csv' | undefined },
        sourceDept: values.source as string,
        batchId: values.batch as string | undefined,
        dryRun: values['dry-run'] === true,
        submittedBy: (values.by as string | undefined) || `cli:${env.USER || userInfo().username}`,
        crs: values.crs as string | undefined,
        defaults: values.layer ? { layer_id: values.layer } : undefined,
        onProgress: (p) => {
          bar?.update(p.totalBytes > 0 ? Math.min(99, Math.floor((100 * p.bytes) / p.totalBytes)) : 0, {
            rows: p.rows,
            phase: 'reading',
          });
        },
        onPhase: async (phase) => {
          bar?.update(phase === 'merged' ? 100 : 99, { phase });
          if (phase === holdAt) {
            process.stderr.write(`hold ${phase}\n`);
            await new Promise(() => undefined);
          }
        },
      });
    } finally {
      bar?.stop();
    }
    log(summary(report));
    return report.rejected > 0 && report.status !== 'already_merged' ? EXIT.rejected : EXIT.ok;
  } catch (e) {
    if (e instanceof ConfigError) {
      error(e.message);
      return EXIT.usage;
    }
    if (e instanceof ImportError) {
      error(`import: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  } finally {
    if (opened) await db?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(EXIT.failed);
    },
  );
}

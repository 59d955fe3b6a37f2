/**
 * npm run keys -- status
 * npm run keys -- rotate [--batch-size N] [--pause-ms N]
 * npm run keys -- rewrap --new-kek-file PATH
 *
 * The keys of the encryption at rest (src/crypto). `status` lists the data keys, the key-encryption key's
 * check value, any unfinished rotation and how many stored values sit under each key version. `rotate`
 * makes a new data key active and re-encrypts every value under an older one (or still in clear) in
 * batches, with a progress bar, while the service keeps answering (on the server; the embedded database is
 * one process's, so stop the service first); run it again after an interruption and it resumes. `rewrap`
 * wraps the data keys under a new key-encryption key; start the service with that key afterwards.
 *
 * Exit codes: 0 done, 1 error, 2 usage or configuration, 3 a rotation left values under an old key.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../src/config.ts';
import { keyringOf, openAtRestFromConfig } from '../src/crypto/at-rest.ts';
import { developmentKekNotice, type Keyring, parseKek } from '../src/crypto/keyring.ts';
import { rewrapKeys, rotateDataKey, versionCounts } from '../src/crypto/rotate.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';

export const USAGE = `usage: npm run keys -- status
       npm run keys -- rotate [--batch-size N] [--pause-ms N]
       npm run keys -- rewrap --new-kek-file PATH`;

export const EXIT = { ok: 0, error: 1, usage: 2, unfinished: 3 } as const;

function positive(text: string | undefined, name: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`--${name}`, `must be an integer ≥ ${min}`);
  return value;
}

async function status(db: Database, keyring: Keyring): Promise<number> {
  const keys = await db.query<{ purpose: string; version: number; status: string; created_at: Date }>(
    'SELECT purpose, version, status, created_at FROM data_keys ORDER BY purpose, version',
  );
  console.log(`key-encryption key check value: ${keyring.kekId}`);
  for (const k of keys) {
    console.log(
      `  ${k.purpose} key v${k.version}: ${k.status} (made ${new Date(k.created_at).toISOString()})`,
    );
  }
  const rotations = await db.query<{
    target_version: number;
    finished_at: Date | null;
    rewritten: number;
    progress: Record<string, number>;
  }>('SELECT target_version, finished_at, rewritten, progress FROM key_rotations ORDER BY target_version');
  for (const r of rotations) {
    console.log(
      r.finished_at
        ? `rotation to v${r.target_version}: finished ${new Date(r.finished_at).toISOString()}, ${r.rewritten} values re-encrypted`
        : `rotation to v${r.target_version}: UNFINISHED (${r.rewritten} values so far; run npm run keys -- rotate to resume)`,
    );
  }
  console.log('stored values by key version (v0: in clear, from before encryption at rest):');
  for (const c of await versionCounts(db)) {
    console.log(`  ${`${c.table}.${c.column}`.padEnd(40)} v${c.version}: ${c.n}`);
  }
  return EXIT.ok;
}

async function rotate(db: Database, batchSize: number, pauseMs: number): Promise<number> {
  const bar = new cliProgress.SingleBar(
    {
      format: 'rotate [{bar}] {percentage}% | {value}/{total} rows | {table} | ETA {eta_formatted}',
      hideCursor: true,
      noTTYOutput: true,
      notTTYSchedule: 2000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const result = await rotateDataKey(db, {
    batchSize,
    pauseMs,
    onProgress: (event) => {
      if (event.kind === 'start') {
        console.error(
          `${event.resumed ? 'resuming the rotation' : 'rotating'} to data key v${event.targetVersion}: ` +
            `${event.total} rows hold values under an older key`,
        );
        bar.start(Math.max(event.total, 1), 0, { table: '' });
        started = true;
      } else if (event.kind === 'batch') {
        // Rows written meanwhile under an old key can push the count past the first total.
        if (event.done > bar.getTotal()) bar.setTotal(event.done);
        bar.update(event.done, { table: event.table });
      } else if (event.remaining > 0) {
        console.error(`\nsweep: ${event.remaining} rows written meanwhile under an older key`);
      }
    },
  });
  if (started) {
    bar.update(bar.getTotal());
    bar.stop();
  }
  if (!result.finished) {
    console.error(
      `rotation to v${result.targetVersion} left ${result.remaining} rows under an older key (a writer still ` +
        'uses it?): run npm run keys -- rotate again',
    );
    return EXIT.unfinished;
  }
  console.error(
    `rotation to data key v${result.targetVersion} finished: ${result.rewritten} values re-encrypted; ` +
      'older data keys are retired (kept, so backups stay readable)',
  );
  return EXIT.ok;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let parsed: { values: Record<string, string | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'batch-size': { type: 'string' },
        'pause-ms': { type: 'string' },
        'new-kek-file': { type: 'string' },
      },
    }) as typeof parsed;
  } catch (error) {
    console.error(`keys: ${(error as Error).message}\n${USAGE}`);
    return EXIT.usage;
  }
  const [command, ...rest] = parsed.positionals;
  if (!command || rest.length > 0 || !['status', 'rotate', 'rewrap'].includes(command)) {
    console.error(USAGE);
    return EXIT.usage;
  }
  let db: Database | undefined;
  try {
    const config = loadConfig();
    const batchSize = positive(parsed.values['batch-size'], 'batch-size', 1000, 1);
    const pauseMs = positive(parsed.values['pause-ms'], 'pause-ms', 0, 0);
    const newKekFile = parsed.values['new-kek-file'];
    if (command === 'rewrap' && !newKekFile) throw new ConfigError('--new-kek-file', 'is required by rewrap');
    db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
    await migrate(db);
    const { codec, kek } = await openAtRestFromConfig(db, config);
    if (kek.development) console.error(developmentKekNotice(kek));
    if (command === 'status') return await status(db, keyringOf(codec)!);
    if (command === 'rotate') return await rotate(db, batchSize, pauseMs);
    const next = parseKek(readFileSync(newKekFile!, 'utf8'), '--new-kek-file');
    const count = await rewrapKeys(db, next);
    console.error(`${count} keys wrapped under the new key-encryption key: set it as GOVBASE_KEK(_FILE) now`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`keys: ${error.message}`);
      return EXIT.usage;
    }
    console.error(`keys: ${(error as Error).message}`);
    return EXIT.error;
  } finally {
    await db?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => process.exit(code));
}

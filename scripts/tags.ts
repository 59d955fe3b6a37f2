/**
 * npm run tags -- recompute [--tag CODE[,CODE…]] [--as-of YYYY-MM-DD] [--triggered-by WHO]
 * npm run tags -- list
 *
 * Recomputes rule tags over the database of the environment (DATABASE_URL, else the embedded one in
 * GOVBASE_DATA_DIR): set-based, one transaction per tag, only changed assignments move; prints per tag what
 * matched, opened and closed. `list` prints the definitions with their last recompute.
 * Exit codes: 0 done, 2 bad arguments (nothing was written), 1 unexpected failure.
 */
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import { TAGS } from '../src/tags/definitions.ts';
import { recomputeTags, syncTagDefinitions, TagError } from '../src/tags/store.ts';

const USAGE = `usage: npm run tags -- recompute [--tag CODE[,CODE…]] [--as-of YYYY-MM-DD] [--triggered-by WHO]
       npm run tags -- list`;

export interface MainOptions {
  db?: Database;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

function whoami(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  let parsed: ReturnType<
    typeof parseArgs<{ options: Record<string, { type: 'string' }>; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { tag: { type: 'string' }, 'as-of': { type: 'string' }, 'triggered-by': { type: 'string' } },
    });
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (command !== 'recompute' && command !== 'list') {
    error(USAGE);
    return 2;
  }
  const asOf = (parsed.values['as-of'] as string | undefined) ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf))) {
    error(`--as-of '${asOf}' is not a date YYYY-MM-DD\n${USAGE}`);
    return 2;
  }
  const codes = ((parsed.values.tag as string | undefined) ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const config = loadConfig();
  const db = options.db ?? (await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir }));
  try {
    if (!options.db) await migrate(db);
    if (command === 'list') {
      await syncTagDefinitions(db);
      const state = await db.query<{
        code: string;
        version: string | null;
        at: string | null;
        asOf: string | null;
        n: number;
      }>(
        `SELECT t.code, t.rule_version AS version, to_char(t.recomputed_at, 'YYYY-MM-DD HH24:MI') AS at,
                t.recomputed_as_of::text AS "asOf",
                (SELECT count(*)::int FROM tag_assignments a WHERE a.tag_code = t.code AND a.valid_to IS NULL) AS n
           FROM tags t`,
      );
      const byCode = new Map(state.map((s) => [s.code, s]));
      for (const tag of TAGS) {
        const s = byCode.get(tag.code);
        log(
          `${tag.code.padEnd(30)} ${tag.registry.padEnd(9)} ${tag.kind.padEnd(6)} ${tag.level.padEnd(10)} ` +
            `${String(s?.n ?? 0).padStart(8)} current${tag.kind === 'rule' ? `  v${tag.version}, last ${s?.at ?? 'never'}${s?.asOf ? ` as of ${s.asOf}` : ''}` : ''}`,
        );
      }
      return 0;
    }
    const results = await recomputeTags(db, {
      codes,
      asOf,
      triggeredBy: (parsed.values['triggered-by'] as string | undefined) ?? whoami(),
    });
    log(`tag                            matched   opened   closed      ms   (as of ${asOf})`);
    for (const r of results) {
      log(
        `${`${r.code}@${r.version}`.padEnd(30)} ${String(r.matched).padStart(8)} ${String(r.opened).padStart(8)} ` +
          `${String(r.closed).padStart(8)} ${String(r.durationMs).padStart(7)}`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof TagError) {
      error(`${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  } finally {
    if (!options.db) await db.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

/**
 * npm run quality -- [--registry R] [--rule ID[,ID…]] [--division CODE] [--rules-dir DIR] [--reports DIR]
 *                     [--as-of YYYY-MM-DD] [--triggered-by WHO] [--list] [--validate]
 *
 * Runs the data-quality passes over the database of the environment (DATABASE_URL, else the embedded one
 * in GOVBASE_DATA_DIR), records the run and its failing records, writes reports/quality-<run>.json and
 * .html, and exits
 *   0 when no error-severity rule exceeded its threshold (warn rules over theirs are listed),
 *   1 when one did,
 *   2 when a rule file is bad or an argument names nothing (nothing was recorded),
 *   3 when a rule failed while running (the run is recorded as 'error').
 * Steward rule files are read from --rules-dir or GOVBASE_QUALITY_RULES_DIR (format:
 * src/quality/rules/sql/README.md).
 */
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openAtRestFromConfig } from '../src/crypto/at-rest.ts';
import { developmentKekNotice } from '../src/crypto/keyring.ts';
import { type Database, migrate, openDatabase } from '../src/db/index.ts';
import {
  loadRules,
  planQualityRun,
  QualityRunError,
  QualityUsageError,
  RULES_DIR_VARIABLE,
  RuleFileError,
  runQualityPass,
  selectRules,
} from '../src/quality/index.ts';
import { writeReports } from '../src/quality/report/index.ts';

export const EXIT = { ok: 0, thresholdExceeded: 1, badRules: 2, runFailed: 3 } as const;

export interface MainOptions {
  /** An open, migrated database (tests); otherwise one is opened from the environment. */
  db?: Database;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  error?: (line: string) => void;
  /** Show the progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

const USAGE = `usage: npm run quality -- [--registry R] [--rule ID[,ID…]] [--division CODE] [--rules-dir DIR]
                          [--reports DIR] [--as-of YYYY-MM-DD] [--triggered-by WHO] [--list] [--validate]`;

export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const error = options.error ?? ((line: string) => console.error(line));
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        registry: { type: 'string' },
        rule: { type: 'string', multiple: true },
        division: { type: 'string' },
        'rules-dir': { type: 'string' },
        reports: { type: 'string', default: 'reports' },
        'as-of': { type: 'string' },
        'triggered-by': { type: 'string' },
        list: { type: 'boolean', default: false },
        validate: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    error(`${(e as Error).message}\n${USAGE}`);
    return EXIT.badRules;
  }
  if (values.help) {
    log(USAGE);
    return EXIT.ok;
  }
  const rulesDir = (values['rules-dir'] as string | undefined) || env[RULES_DIR_VARIABLE] || undefined;
  const ruleIds = ((values.rule as string[] | undefined) ?? []).flatMap((r) => r.split(',')).filter(Boolean);
  const selection = {
    ...(values.registry ? { registry: values.registry as string } : {}),
    ...(ruleIds.length > 0 ? { rules: ruleIds } : {}),
    ...(values.division ? { division: values.division as string } : {}),
  };

  // Rule files are read and checked before the database is opened: a bad file costs nothing.
  try {
    const rules = selectRules(loadRules({ rulesDir }), selection);
    if (values.list) {
      for (const r of rules)
        log(
          `${r.id.padEnd(52)} ${r.registry.padEnd(13)} ${r.dimension.padEnd(13)} ${r.severity.padEnd(5)} ${String(r.threshold).padEnd(7)} ${r.kind}`,
        );
      return EXIT.ok;
    }
  } catch (e) {
    if (e instanceof RuleFileError || e instanceof QualityUsageError) {
      error(e.message);
      return EXIT.badRules;
    }
    throw e;
  }

  let db = options.db;
  let opened = false;
  try {
    if (!db) {
      const config = loadConfig(env);
      // No statement timeout: a pass over millions of rows runs longer than an API request.
      db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
      opened = true;
      await migrate(db);
      // ID numbers are encrypted at rest: the ID-number rules read them decrypted, page by page.
      const { kek } = await openAtRestFromConfig(db, config);
      if (kek.development) console.error(developmentKekNotice(kek));
    }
    if (values.validate) {
      const plan = await planQualityRun(db, {
        ...selection,
        ...(rulesDir ? { rulesDir } : {}),
        ...(values['as-of'] ? { asOf: values['as-of'] as string } : {}),
      });
      log(`${plan.rules.length} rules valid (parsed and planned by the database; nothing was run)`);
      return EXIT.ok;
    }
    const showProgress = options.progress ?? process.stderr.isTTY === true;
    const bar = showProgress
      ? new cliProgress.SingleBar(
          {
            format: 'quality {bar} {value}/{total} rules | {current}',
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
    let done = 0;
    const result = await runQualityPass(db, {
      ...selection,
      ...(rulesDir ? { rulesDir } : {}),
      ...(values['as-of'] ? { asOf: values['as-of'] as string } : {}),
      triggeredBy: (values['triggered-by'] as string | undefined) || `cli:${env.USER || userInfo().username}`,
      onProgress: (event) => {
        if (!bar) return;
        if (event.kind === 'start') bar.start(event.rules, 0, { current: 'starting' });
        else if (event.kind === 'rule') {
          done = event.done;
          bar.update(done, { current: `${event.ruleId}: ${event.failed.toLocaleString()} failing` });
        } else bar.update(done, { current: `${event.scan}: ${event.rows.toLocaleString()} rows scanned` });
      },
    }).finally(() => bar?.stop());
    const reports = await writeReports(db, result.runId, values.reports as string);
    const seconds = (result.durationMs / 1000).toFixed(1);
    log(
      `run ${result.runId}: ${result.status} — ${result.rules.length} rules, ${result.rowsChecked.toLocaleString()} record checks, ${result.failures.toLocaleString()} failures in ${seconds} s`,
    );
    for (const r of result.exceeded) {
      log(
        `  ${r.severity === 'error' ? 'FAIL' : 'warn'} ${r.ruleId}: ${r.failed.toLocaleString()} of ${r.checked.toLocaleString()} (${(r.rate * 100).toFixed(3)} %) > threshold ${(r.threshold * 100).toFixed(3)} %`,
      );
    }
    log(`reports: ${reports.json}, ${reports.html}`);
    return result.status === 'failed' ? EXIT.thresholdExceeded : EXIT.ok;
  } catch (e) {
    if (e instanceof RuleFileError || e instanceof QualityUsageError || e instanceof ConfigError) {
      error(e.message);
      return EXIT.badRules;
    }
    if (e instanceof QualityRunError) {
      error(e.message);
      return EXIT.runFailed;
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
      process.exit(3);
    },
  );
}

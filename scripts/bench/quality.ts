import type { Database, Row } from '../../src/db/index.ts';
import { populationStatement, scanPageStatement } from '../../src/quality/compile.ts';
import { planQualityRun, type RunOptions, runQualityPass } from '../../src/quality/index.ts';
import { Statement } from '../../src/quality/sql-text.ts';
import type { CodeRule, Rule, Scan } from '../../src/quality/types.ts';
import type { BenchContext } from './context.ts';
import type { Comparison, Measurement } from './harness.ts';
import { timeBulk } from './harness.ts';

/**
 * The data-quality passes (src/quality) over the bench population — and the bench's entities when the
 * legal-entity suite generated them — against two baselines measured in the same run:
 *
 * - a bare `SELECT count(*)` of every table the rules read: the least any pass over the data costs;
 * - the rules' own SQL, raw: each SQL check counted (not inserted), each rule's population counted, each
 *   code-check scan read page by page without checking anything, with the runner's concurrency. The ratio
 *   is what the runner adds: the code checks, recording the failures, rule versions and steward issues.
 *
 * Figures are persons/s (entities/s for the legal-entity pass), as the issue's aim is 10M persons in
 * under 5 minutes on the server.
 */

/** Tables named after FROM or JOIN in a rule's statements, that exist. */
async function tablesRead(db: Database, rules: readonly Rule[]): Promise<string[]> {
  const names = new Set<string>();
  const collect = (text: string) => {
    for (const m of text.matchAll(/\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b/gi)) names.add(m[1]!.toLowerCase());
  };
  for (const rule of rules) {
    if (rule.kind === 'sql') {
      collect(`FROM ${rule.population.from}`);
      collect(rule.check);
    } else {
      collect(`FROM ${rule.scan.from}`);
    }
  }
  const found = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND c.relname = ANY($1::text[])
      ORDER BY 1`,
    [[...names]],
  );
  return found.map((r) => r.name);
}

/** Runs the tasks with at most `limit` at a time (the runner's pool: 3 on a server, 1 on PGlite). */
async function inPool(tasks: (() => Promise<unknown>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
}

/** The rules' statements run raw: checks counted, populations counted, scans read without checks. */
async function rawRules(db: Database, options: RunOptions): Promise<void> {
  const { rules, parameters, division } = await planQualityRun(db, options);
  const populations = new Map<string, { text: string; params: unknown[] }>();
  const tasks: (() => Promise<unknown>)[] = [];
  const scans = new Set<Scan>();
  for (const rule of rules) {
    if (rule.kind === 'code') {
      scans.add((rule as CodeRule).scan);
      continue;
    }
    const check = new Statement(parameters)
      .raw('SELECT count(*) AS n FROM (\n')
      .part('check', rule.check)
      .raw('\n) AS q');
    tasks.push(() => db.query(check.text, check.params));
    const population = populationStatement(rule.population, parameters, division);
    populations.set(`${population.text}\u0000${JSON.stringify(population.params)}`, population);
  }
  for (const scan of scans) {
    tasks.unshift(async () => {
      let after: unknown;
      for (;;) {
        const page = scanPageStatement(scan, after, 5000, division);
        const found = await db.query<Row>(page.text, page.params);
        if (found.length < 5000) return;
        after = found.at(-1)!.key;
      }
    });
  }
  for (const p of populations.values()) tasks.push(() => db.query(p.text, p.params));
  await inPool(tasks, db.kind === 'pglite' ? 1 : 3);
}

async function countAll(db: Database, tables: readonly string[]): Promise<void> {
  for (const table of tables) await db.query(`SELECT count(*) FROM ${table}`);
}

async function rowCount(db: Database, tables: readonly string[]): Promise<number> {
  let total = 0;
  for (const table of tables) {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${table}`);
    total += Number(row?.n ?? 0);
  }
  return total;
}

interface Pass {
  label: string;
  options: RunOptions;
  /** What per-second figures count (persons, or entities). */
  count: number;
  unit: string;
}

async function benchPass(ctx: BenchContext, pass: Pass, rounds: number): Promise<Comparison[]> {
  const { db } = ctx;
  const { rules } = await planQualityRun(db, pass.options);
  const tables = await tablesRead(db, rules);
  const rowsRead = await rowCount(db, tables);
  const scans = new Set(rules.filter((r) => r.kind === 'code').map((r) => (r as CodeRule).scan)).size;
  const checks = rules.filter((r) => r.kind === 'sql').length;
  let bestRun: Awaited<ReturnType<typeof runQualityPass>> | undefined;
  const subjectName = `${pass.label}: ${rules.length} rules (${pass.unit}/s)`;
  const countName = `bare count(*) of the ${tables.length} tables read (${rowsRead.toLocaleString()} rows)`;
  const rawName = `the rules' SQL raw: ${checks} checks counted, ${scans} scans read unchecked`;
  // Rounds alternate the three, keeping the best of each (harness.compare, with one subject for two baselines).
  const best: Partial<Record<'subject' | 'count' | 'raw', Measurement>> = {};
  const keep = (k: keyof typeof best, m: Measurement) => {
    if (!best[k] || m.seconds < best[k].seconds) best[k] = m;
  };
  for (let r = 0; r < rounds; r++) {
    keep('count', await timeBulk(countName, pass.count, () => countAll(db, tables)));
    keep('raw', await timeBulk(rawName, pass.count, () => rawRules(db, pass.options)));
    let run: Awaited<ReturnType<typeof runQualityPass>> | undefined;
    const measured = await timeBulk(subjectName, pass.count, async () => {
      run = await runQualityPass(db, { ...pass.options, triggeredBy: 'bench' });
    });
    if (!best.subject || measured.seconds < best.subject.seconds) bestRun = run;
    keep('subject', measured);
  }
  const comparison = (baseline: Measurement): Comparison => ({
    suite: 'quality',
    subject: best.subject!,
    baseline,
    ratio: best.subject!.seconds / baseline.seconds,
  });
  const vsCount = comparison(best.count!);
  const vsRaw = comparison(best.raw!);
  const run = bestRun!;
  const slowest = [...run.rules].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
  console.log(
    `quality ${pass.label}: ${(vsCount.subject.seconds).toFixed(1)} s, ${Math.round(vsCount.subject.perSecond).toLocaleString()} ${pass.unit}/s, ` +
      `${run.rowsChecked.toLocaleString()} rule×record checks, ${run.failures.toLocaleString()} failures; slowest (rules sharing a scan share its time): ` +
      slowest.map((r) => `${r.ruleId} ${(r.durationMs / 1000).toFixed(1)} s`).join(', '),
  );
  return [vsCount, vsRaw];
}

export async function benchQuality(ctx: BenchContext): Promise<Comparison[]> {
  const { db } = ctx;
  const [counts] = await db.query<{ persons: number; entities: number }>(
    'SELECT (SELECT count(*) FROM persons)::bigint AS persons, (SELECT count(*) FROM entities)::bigint AS entities',
  );
  const persons = Number(counts!.persons);
  const entities = Number(counts!.entities);
  await db.exec('ANALYZE');
  const rounds = ctx.quick ? 1 : 2;
  const passes: Pass[] = [
    {
      label: entities > 0 ? 'full pass (persons and entities)' : 'full pass',
      options: {},
      count: persons,
      unit: 'persons',
    },
  ];
  if (entities > 0) {
    // Per registry, so persons/s compares with population-only runs and entities get their own figure.
    passes.push(
      { label: 'population registry', options: { registry: 'population' }, count: persons, unit: 'persons' },
      {
        label: 'legal-entity registry',
        options: { registry: 'legal-entity' },
        count: entities,
        unit: 'entities',
      },
    );
  }
  const comparisons: Comparison[] = [];
  for (const pass of passes) comparisons.push(...(await benchPass(ctx, pass, rounds)));
  return comparisons;
}

/**
 * Benchmark harness: every figure is reported next to a baseline measured in the same run (raw SQL, COPY),
 * because these shared 2-core machines are noisy; ratios travel, absolute times do not.
 */

export interface Measurement {
  name: string;
  /** Operations (requests, rows) per second. */
  perSecond: number;
  /** Median latency of one operation in milliseconds, where operations are timed one by one. */
  medianMs?: number;
  p95Ms?: number;
  count: number;
  seconds: number;
}

export interface Comparison {
  suite: string;
  subject: Measurement;
  baseline: Measurement;
  /** subject time / baseline time (≥ 1 means slower than the baseline). */
  ratio: number;
  note?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Times `count` sequential calls of `op(i)` after `warmup` untimed ones. */
export async function timeEach(
  name: string,
  count: number,
  op: (i: number) => Promise<unknown>,
  warmup = 20,
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await op(i);
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    times.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  times.sort((a, b) => a - b);
  return {
    name,
    count,
    seconds,
    perSecond: count / seconds,
    medianMs: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
  };
}

/** Times one bulk operation that handles `rows` rows. */
export async function timeBulk(name: string, rows: number, op: () => Promise<unknown>): Promise<Measurement> {
  const start = performance.now();
  await op();
  const seconds = (performance.now() - start) / 1000;
  return { name, count: rows, seconds, perSecond: rows / seconds };
}

/**
 * Alternates subject and baseline rounds so drift on a shared machine hits both alike; keeps the best
 * round of each (the least disturbed).
 */
export async function compare(
  suite: string,
  rounds: number,
  subject: () => Promise<Measurement>,
  baseline: () => Promise<Measurement>,
  note?: string,
): Promise<Comparison> {
  let best: { s?: Measurement; b?: Measurement } = {};
  for (let r = 0; r < rounds; r++) {
    const b = await baseline();
    const s = await subject();
    if (!best.b || b.seconds / b.count < best.b.seconds / best.b.count) best = { ...best, b };
    if (!best.s || s.seconds / s.count < best.s.seconds / best.s.count) best = { ...best, s };
  }
  const s = best.s!;
  const b = best.b!;
  return { suite, subject: s, baseline: b, ratio: s.seconds / s.count / (b.seconds / b.count), note };
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

export function report(comparisons: Comparison[]): string {
  const lines = [
    '| suite | subject | per s | median ms | baseline | per s | median ms | ratio (time vs baseline) |',
    '|---|---|---:|---:|---|---:|---:|---:|',
  ];
  for (const c of comparisons) {
    lines.push(
      `| ${c.suite} | ${c.subject.name} | ${fmt(c.subject.perSecond)} | ${c.subject.medianMs !== undefined ? fmt(c.subject.medianMs, 2) : '–'} | ${c.baseline.name} | ${fmt(c.baseline.perSecond)} | ${c.baseline.medianMs !== undefined ? fmt(c.baseline.medianMs, 2) : '–'} | ${fmt(c.ratio, 2)}×${c.note ? ` (${c.note})` : ''} |`,
    );
  }
  return lines.join('\n');
}

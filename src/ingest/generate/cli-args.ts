/** Command-line arguments of `npm run generate` (scripts/generate.ts), parsed and validated without I/O. */

import { parseArgs } from 'node:util';
import { DEFECT_KINDS, type DefectKind, type GenerateOptions, normaliseOptions } from './population.ts';

export const USAGE = `usage: npm run generate -- --persons N --seed S [options]

  --persons N        persons to generate (e.g. 20000, 200k, 1m)
  --seed S           seed; the same seed on an empty database gives the same rows
  --defects LIST     defect rates, e.g. bad_check_digit=0.001,duplicate_person=0.0005
                     kinds: ${DEFECT_KINDS.join(', ')}
  --as-of DATE       reference date YYYY-MM-DD (default: today)
  --manifest PATH    where to write the manifest (default: reports/generate-manifest-<seed>.json)
  --batch NAME       source_batch of the rows (default: gen-<seed>)
  --source CODE      source_dept of the rows (default: MPS)
  --help             this text

The database comes from the environment: DATABASE_URL (PostgreSQL), else PGlite in GOVBASE_DATA_DIR.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliArgs {
  options: Omit<GenerateOptions, 'onProgress'>;
  manifestPath: string;
}

/** `20000`, `20_000`, `200k`, `1m` / `1M` → an integer, or a UsageError. */
export function parseCount(text: string, what: string): number {
  const m = /^(\d[\d_]*)([kKmM]?)$/.exec(text.trim());
  const value = m
    ? Number(m[1]!.replaceAll('_', '')) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1e3 : 1e6)
    : Number.NaN;
  if (!Number.isSafeInteger(value))
    throw new UsageError(`${what} must be a whole number (e.g. 20000 or 200k), got '${text}'`);
  return value;
}

/** `kind=rate,kind=rate` → rates; unknown kinds and rates outside 0..1 are errors. */
export function parseDefects(text: string): Partial<Record<DefectKind, number>> {
  const rates: Partial<Record<DefectKind, number>> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`--defects: expected kind=rate, got '${part}'`);
    const kind = part.slice(0, eq).trim();
    const rateText = part.slice(eq + 1).trim();
    if (!DEFECT_KINDS.includes(kind as DefectKind)) {
      throw new UsageError(`--defects: unknown defect kind '${kind}' (known: ${DEFECT_KINDS.join(', ')})`);
    }
    const rate = rateText === '' ? Number.NaN : Number(rateText);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new UsageError(`--defects: rate of ${kind} must be a number from 0 to 1, got '${rateText}'`);
    }
    if (kind in rates) throw new UsageError(`--defects: ${kind} given twice`);
    rates[kind as DefectKind] = rate;
  }
  return rates;
}

/** Parses argv (without node and the script); returns null for --help. Throws UsageError. */
export function parseCliArgs(argv: readonly string[]): CliArgs | null {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        persons: { type: 'string' },
        seed: { type: 'string' },
        defects: { type: 'string' },
        'as-of': { type: 'string' },
        manifest: { type: 'string' },
        batch: { type: 'string' },
        source: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const text = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const personsText = text('persons');
  if (personsText === undefined) throw new UsageError('--persons is required');
  const seed = text('seed');
  if (seed === undefined || seed === '') throw new UsageError('--seed is required');
  const options: Omit<GenerateOptions, 'onProgress'> = {
    persons: parseCount(personsText, '--persons'),
    seed,
  };
  const defects = text('defects');
  if (defects !== undefined) options.defects = parseDefects(defects);
  const asOf = text('as-of');
  if (asOf !== undefined) options.asOf = asOf;
  const batch = text('batch');
  if (batch !== undefined) options.batch = batch;
  const source = text('source');
  if (source !== undefined) options.source = source;
  try {
    normaliseOptions(options);
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace(/^asOf\b/, '--as-of').replace(/^persons\b/, '--persons'),
    );
  }
  const safeSeed = seed.replace(/[^\w.-]+/g, '_');
  return { options, manifestPath: text('manifest') ?? `reports/generate-manifest-${safeSeed}.json` };
}

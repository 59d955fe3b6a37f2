/** Command-line arguments of `npm run generate` (scripts/generate.ts), parsed and validated without I/O. */

import { parseArgs } from 'node:util';
import {
  ENTITY_DEFECT_KINDS,
  type EntityDefectKind,
  type EntityGenerateOptions,
  normaliseEntityOptions,
} from './entities.ts';
import { DEFECT_KINDS, type DefectKind, type GenerateOptions, normaliseOptions } from './population.ts';

export const USAGE = `usage: npm run generate -- --persons N --seed S [options]

  --persons N        persons to generate (e.g. 20000, 200k, 1m); 0 to add only entities
  --seed S           seed; the same seed on an empty database gives the same rows
  --defects LIST     defect rates, e.g. bad_check_digit=0.001,duplicate_person=0.0005
                     kinds: ${DEFECT_KINDS.join(', ')}
  --entities N       legal entities to generate after the persons; legal representatives,
                     shareholders and online sellers are drawn from the persons in the database
  --entity-defects LIST
                     entity defect rates (default 0.001 each), e.g. bad_uscc_check=0.002
                     kinds: ${ENTITY_DEFECT_KINDS.join(', ')}
  --as-of DATE       reference date YYYY-MM-DD (default: today)
  --manifest PATH    where to write the manifest (default: reports/generate-manifest-<seed>.json);
                     with --entities it also lists the entities' defects under legalEntities
  --batch NAME       source_batch of the persons (default: gen-<seed>; entities: gen-entities-<seed>)
  --source CODE      source_dept of the persons (default: MPS)
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
  /** --entities: the legal entities to generate after the persons. */
  entities?: Omit<EntityGenerateOptions, 'onProgress'>;
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

/** `kind=rate,kind=rate` → rates for `option`; unknown kinds, repeats and rates outside 0..1 are errors. */
function parseRates<K extends string>(
  text: string,
  option: string,
  kinds: readonly K[],
): Partial<Record<K, number>> {
  const rates: Partial<Record<K, number>> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new UsageError(`${option}: expected kind=rate, got '${part}'`);
    const kind = part.slice(0, eq).trim();
    const rateText = part.slice(eq + 1).trim();
    if (!kinds.includes(kind as K)) {
      throw new UsageError(`${option}: unknown defect kind '${kind}' (known: ${kinds.join(', ')})`);
    }
    const rate = rateText === '' ? Number.NaN : Number(rateText);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new UsageError(`${option}: rate of ${kind} must be a number from 0 to 1, got '${rateText}'`);
    }
    if (kind in rates) throw new UsageError(`${option}: ${kind} given twice`);
    rates[kind as K] = rate;
  }
  return rates;
}

/** `--defects kind=rate,kind=rate` (persons) → rates. */
export function parseDefects(text: string): Partial<Record<DefectKind, number>> {
  return parseRates(text, '--defects', DEFECT_KINDS);
}

/** `--entity-defects kind=rate,…` → rates. */
export function parseEntityDefects(text: string): Partial<Record<EntityDefectKind, number>> {
  return parseRates(text, '--entity-defects', ENTITY_DEFECT_KINDS);
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
        entities: { type: 'string' },
        'entity-defects': { type: 'string' },
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
  const entitiesText = text('entities');
  const entityDefects = text('entity-defects');
  if (entitiesText === undefined && entityDefects !== undefined) {
    throw new UsageError('--entity-defects needs --entities');
  }
  let entities: CliArgs['entities'];
  if (entitiesText !== undefined) {
    entities = {
      entities: parseCount(entitiesText, '--entities'),
      seed,
      ...(asOf !== undefined ? { asOf } : {}),
    };
    if (entityDefects !== undefined) entities.defects = parseEntityDefects(entityDefects);
    try {
      normaliseEntityOptions(entities);
    } catch (error) {
      throw new UsageError(
        (error as Error).message
          .replace(/^entities\b/, '--entities')
          .replace(/^entity defect rates\b/, '--entity-defects: rates'),
      );
    }
  }
  const safeSeed = seed.replace(/[^\w.-]+/g, '_');
  return {
    options,
    ...(entities ? { entities } : {}),
    manifestPath: text('manifest') ?? `reports/generate-manifest-${safeSeed}.json`,
  };
}

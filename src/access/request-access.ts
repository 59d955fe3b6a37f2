import type { Dataset, FieldEntry } from '../../schema/catalogue.ts';
import { errors, GovError } from '../errors.ts';
import { type Decision, decideField } from './policy.ts';
import { inScope, type Principal } from './principal.ts';

export interface FieldTally {
  allow?: number;
  mask?: number;
  deny?: number;
}

/** What one request read: the raw material of its audit record. */
export interface AccessReport {
  fields: Record<string, FieldTally>;
  rows: Record<string, number>;
  subjects: Set<string>;
}

/**
 * The access state of one request: the principal, decisions cached per field, and the tally that the
 * audit record is made of. Registries ask it; they never decide for themselves.
 */
export class RequestAccess {
  private current: AccessReport = { fields: {}, rows: {}, subjects: new Set() };
  private readonly decisions = new Map<string, Decision>();
  private seenRows = new Map<string, WeakSet<object>>();

  constructor(readonly principal: Principal) {}

  /** What this request has read so far. */
  get report(): AccessReport {
    return this.current;
  }

  /**
   * Hands over what was read since the last call and starts a new tally: a subscription's context lives as
   * long as its stream, and each delivered event is audited with only what that event read.
   */
  takeReport(): AccessReport {
    const report = this.current;
    this.current = { fields: {}, rows: {}, subjects: new Set() };
    this.seenRows = new Map();
    return report;
  }

  /** The catalogue entry of a column or derived value; a missing one is a programming error (fail closed). */
  entry(dataset: Dataset, field: string): FieldEntry {
    const entry =
      (dataset.fields as Record<string, FieldEntry | undefined>)[field] ??
      (dataset.derived as Record<string, FieldEntry | undefined>)[field];
    if (!entry) throw new Error(`field '${field}' has no entry in the catalogue of ${dataset.id}`);
    return entry;
  }

  decide(dataset: Dataset, field: string): Decision {
    const key = `${dataset.id}\u0000${field}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = decideField(this.principal, dataset.id, dataset.owner, this.entry(dataset, field));
      this.decisions.set(key, decision);
    }
    return decision;
  }

  /** The error a denied field carries, naming its path. */
  denial(decision: Extract<Decision, { kind: 'deny' }>, path: string): GovError {
    if (decision.reason === 'purpose_required') return errors.purposeRequired(path);
    if (decision.reason === 'purpose_not_approved')
      return errors.purposeNotApproved(path, this.principal.purpose ?? '');
    return errors.forbiddenField(path, 'no grant covers its classification');
  }

  /**
   * A caller may see a dataset's rows at all when it holds a grant on it or the dataset has public columns.
   * Public derived values do not count: persons' public `aggregate` is served only by the statistics
   * queries (with small-cell suppression), and must not open the row-level queries to everyone.
   */
  canReadDataset(dataset: Dataset): boolean {
    if (this.principal.grants.has(dataset.id)) return true;
    return (Object.values(dataset.fields) as FieldEntry[]).some((e) => e.level === 'public');
  }

  /**
   * Refuses the whole field when the caller may not see the dataset's rows. `path` names a navigation field
   * (Person.residences → population.residences): following it would reveal that rows exist and how many,
   * even if every field of them were then denied.
   */
  requireDataset(dataset: Dataset, path?: string): void {
    if (this.canReadDataset(dataset)) return;
    if (!path) throw errors.forbiddenDataset(dataset.id);
    throw new GovError(
      'FORBIDDEN_DATASET',
      `Field '${path}' leads to dataset '${dataset.id}', which no grant of the caller covers`,
      { dataset: dataset.id, field: path },
    );
  }

  /** Filtering or sorting on a field reveals its value, so it needs the right to read it in clear. */
  requireClear(dataset: Dataset, field: string, argument: string): void {
    if (this.decide(dataset, field).kind !== 'allow')
      throw errors.forbiddenFilter(argument, `${dataset.id}.${field}`);
  }

  inScope(divisionCode: string | null | undefined): boolean {
    return inScope(this.principal, divisionCode);
  }

  noteField(path: string, decision: Decision): void {
    const tally = this.report.fields[path] ?? {};
    tally[decision.kind] = (tally[decision.kind] ?? 0) + 1;
    this.report.fields[path] = tally;
  }

  noteRow(typeName: string, row: object): void {
    let seen = this.seenRows.get(typeName);
    if (!seen) {
      seen = new WeakSet();
      this.seenRows.set(typeName, seen);
    }
    if (seen.has(row)) return;
    seen.add(row);
    this.report.rows[typeName] = (this.report.rows[typeName] ?? 0) + 1;
  }

  noteSubject(key: string | null | undefined): void {
    if (key) this.report.subjects.add(key);
  }
}

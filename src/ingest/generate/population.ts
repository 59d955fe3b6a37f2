/**
 * Synthetic population generator: persons, households, memberships, residences and vital events,
 * streamed into the database with COPY in batches, with known defects injected at given rates and
 * listed exactly in a manifest (the ground truth for the data-quality passes).
 *
 * Layout of a run:
 * 1. Persons are spread over the current county-level divisions: province by 2020 census population,
 *    county uniform within the province (a seeded multinomial gives each county a quota).
 * 2. Counties are generated one after the other, in code order, household by household with the
 *    planner of `../synthetic`. A household that runs past its county's quota is completed, and the
 *    counties after it get that many fewer (cumulative targets), so small runs still have whole
 *    households; only the very last household of a run may be cut short. Everything that has to be
 *    unique is only ever tracked for one county at a time: ID-number sequence counters per
 *    (birth day, sex), and the set of (name, sex, birth date, hukou division) keys (a coincidence gets
 *    a new given name on the spot). Ids are assigned in order, from max(id) + 1 of each table.
 * 3. Residence points come from a pool of `ST_GeneratePoints` per boundary polygon, made once, and are
 *    written as hex EWKB (SRID 4490), which COPY parses several times faster than EWKT.
 * 4. Rows of all five tables are buffered for about {@link BATCH_PERSONS} persons and COPYed; the next
 *    batch is generated while the previous one is written.
 * 5. Afterwards one statement looks for coincidences with rows that were in the table before the run
 *    (appends only); the sequences are moved past the new ids.
 * 6. Sensitive fields (ID numbers, addresses, phones) are encrypted in the streaming step, as every write
 *    path does (src/crypto/at-rest.ts): each stored value is its own ciphertext (fresh IV), and a blind
 *    index goes beside it. An append reads the ID numbers already there by decrypting them (a pass over
 *    persons in Node), since SQL cannot look inside a ciphertext.
 */

import { buildIdNumber } from '../../codes/id-number.ts';
import { type AtRestCodec, atRest } from '../../crypto/at-rest.ts';
import { csvField, type Database } from '../../db/index.ts';
import {
  addYears,
  ageOnCivil,
  birthDateFor,
  birthDateForAge,
  createRng,
  daysFromCivil,
  daysInMonth,
  ethnicityPickerFor,
  formatDay,
  householdAddress,
  maritalStatusFor,
  memberSurname,
  NEUTRAL_NAME_CHARS,
  parseCivil,
  planHousehold,
  type Rng,
  type RoleSpec,
  type SexCode,
  sampleEducation,
  sampleGivenName,
  sampleMobilePhone,
  sampleSurname,
  weightedPicker,
} from '../synthetic/index.ts';
import {
  type County,
  farProvinces,
  type Geography,
  generatePointPools,
  loadGeography,
  type PointPool,
  type Town,
} from './geography.ts';

export type DefectKind =
  | 'bad_check_digit'
  | 'birth_date_mismatch'
  | 'point_outside_division'
  | 'missing_required_field'
  | 'duplicate_person';

export const DEFECT_KINDS: readonly DefectKind[] = [
  'bad_check_digit',
  'birth_date_mismatch',
  'point_outside_division',
  'missing_required_field',
  'duplicate_person',
];

export interface GenerateOptions {
  persons: number;
  seed: string | number;
  /** YYYY-MM-DD; default today (UTC). */
  asOf?: string;
  /** Rate 0..1 per kind (of all persons generated); default none. The rates may sum to at most 1. */
  defects?: Partial<Record<DefectKind, number>>;
  /** source_batch of every row; default `gen-<seed>`. */
  batch?: string;
  /** Department code for source_dept; default 'MPS'. */
  source?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerationManifest {
  seed: string;
  persons: number;
  households: number;
  asOf: string;
  batch: string;
  /**
   * The persons carrying each defect, in id order. For `duplicate_person` these are the extra
   * records; each has the same name, gender, birth date and hukou division as exactly one other
   * person (clean, with a lower id).
   */
  defects: Record<DefectKind, { personIds: number[]; idNumbers: string[] }>;
}

/** Persons per COPY batch (rows of the other tables follow their persons). */
export const BATCH_PERSONS = 10_000;
/** Share of households living in another county of their province (migrants, 人户分离). */
const MIGRANT_SHARE = 0.15;
/** Death probability of a non-head member: about 0.7 % of all persons (heads are ~38 %). */
const DEATH_SHARE = 0.007 / 0.62;
/** Share of single-person households registered as collective households (集体户). */
const COLLECTIVE_SHARE = 0.06;
/** Years back the deaths and moves reach. */
const DEATH_YEARS = 5;
const MOVE_YEARS = 20;
/** Legal marriage age, GB/T 2261.1 sex code → years. */
const MARRIAGE_AGE: Readonly<Record<SexCode, number>> = { '1': 22, '2': 20 };
/** Days covered by the ID-sequence counters, ending on asOf (the oldest generated person is < 105). */
const COUNTER_DAYS = 125 * 366;
/** Sequence codes: men 001, 003 … 999 (500), women 002, 004 … 998 (499); GB 11643 odd = male. */
const MAX_MALE_COUNTER = 500;
const MAX_FEMALE_COUNTER = 499;
const CHECK_CHARS = '0123456789X';
/** Above this existing sequence code in a county, appends look up the used codes per birth date. */
const ROOMY_SEQUENCE = 800;
/** "No such date" for day numbers (which are negative before 1970). */
const NO_DAY = Number.MIN_SAFE_INTEGER;

const PERSON_COLUMNS =
  'persons (id, id_number, id_number_bidx, name, gender, birth_date, ethnicity, hukou_division_code, ' +
  'hukou_address, hukou_address_bidx, residence_division_code, residence_address, residence_address_bidx, ' +
  'residence_point, marital_status, education, phone, phone_bidx, status, death_date, household_id, ' +
  'source_dept, source_batch)';
const HOUSEHOLD_COLUMNS =
  'households (id, household_number, type, head_person_id, division_code, address, address_bidx, source_dept, ' +
  'source_batch)';
const MEMBER_COLUMNS =
  'household_members (id, household_id, person_id, relation, valid_from, valid_to, source_dept, source_batch)';
const RESIDENCE_COLUMNS =
  'residences (id, person_id, division_code, address, address_bidx, point, valid_from, valid_to, source_dept, ' +
  'source_batch)';
const EVENT_COLUMNS =
  'vital_events (id, person_id, type, event_date, division_code, source_dept, source_batch)';

const TABLES = ['persons', 'households', 'household_members', 'residences', 'vital_events'] as const;
type Table = (typeof TABLES)[number];

interface Normalised {
  persons: number;
  seed: string;
  asOf: string;
  asOfDate: Date;
  asOfDay: number;
  rates: Record<DefectKind, number>;
  batch: string;
  source: string;
  onProgress: ((done: number, total: number) => void) | undefined;
}

/** Validates options; throws RangeError with a message fit for a command line. */
export function normaliseOptions(options: GenerateOptions): Normalised {
  const { persons } = options;
  if (!Number.isSafeInteger(persons) || persons < 0) {
    throw new RangeError(`persons must be a non-negative integer, got ${persons}`);
  }
  const seed = String(options.seed);
  if (seed === '' || (typeof options.seed === 'number' && !Number.isFinite(options.seed))) {
    throw new RangeError(`seed must be a non-empty string or a finite number, got '${seed}'`);
  }
  const asOf = options.asOf ?? new Date().toISOString().slice(0, 10);
  let asOfDay: number;
  try {
    const civil = parseCivil(asOf, new Int32Array(3));
    asOfDay = daysFromCivil(civil[0]!, civil[1]!, civil[2]!);
  } catch {
    throw new RangeError(`asOf must be a real YYYY-MM-DD date, got '${asOf}'`);
  }
  const rates = Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])) as Record<DefectKind, number>;
  let sum = 0;
  for (const [kind, rate] of Object.entries(options.defects ?? {})) {
    if (!DEFECT_KINDS.includes(kind as DefectKind)) {
      throw new RangeError(`unknown defect kind '${kind}' (known: ${DEFECT_KINDS.join(', ')})`);
    }
    if (rate === undefined) continue;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new RangeError(`defect rate of ${kind} must be a number from 0 to 1, got ${rate}`);
    }
    rates[kind as DefectKind] = rate;
    sum += rate;
  }
  if (sum > 1)
    throw new RangeError(`defect rates sum to ${sum}, more than 1 (each defect is on a distinct person)`);
  return {
    persons,
    seed,
    asOf,
    asOfDate: new Date(`${asOf}T00:00:00Z`),
    asOfDay,
    rates,
    batch: options.batch ?? `gen-${seed}`,
    source: options.source ?? 'MPS',
    onProgress: options.onProgress,
  };
}

/**
 * Which defect (if any) each person gets: sequential selection (Knuth's algorithm S over all kinds at
 * once), so each kind hits round(rate × persons) distinct persons, spread evenly over the run.
 * A `duplicate_person` draw marks the *original*; its extra record takes the next slot.
 */
class DefectPlan {
  private readonly remaining: number[];
  constructor(
    private readonly rng: Rng,
    private readonly total: number,
    rates: Record<DefectKind, number>,
  ) {
    this.remaining = DEFECT_KINDS.map((k) => Math.round(rates[k] * total));
    // A duplicate occupies two slots (original + extra record).
    const dup = DEFECT_KINDS.indexOf('duplicate_person');
    this.remaining[dup] = Math.min(this.remaining[dup]!, Math.floor(total / 2));
  }

  next(slot: number): DefectKind | null {
    const left = this.total - slot;
    let u = this.rng.nextFloat() * left;
    for (let k = 0; k < DEFECT_KINDS.length; k++) {
      const r = this.remaining[k]!;
      if (u < r) {
        const kind = DEFECT_KINDS[k]!;
        if (kind === 'duplicate_person' && left < 2) return null;
        this.remaining[k] = r - 1;
        return kind;
      }
      u -= r;
    }
    return null;
  }
}

interface Ids {
  person: number;
  household: number;
  member: number;
  residence: number;
  event: number;
}

/**
 * CSV text of one table for one batch. Lines are joined into flat chunks every 64 lines:
 * a line built from a template is a rope of many small strings, and keeping thousands of ropes alive
 * until the COPY makes every young-generation garbage collection copy them (it was most of the time).
 */
class CsvBuffer {
  readonly chunks: string[] = [];
  private lines: string[] = [];
  count = 0;

  push(line: string): void {
    this.lines.push(line);
    this.count++;
    if (this.lines.length === 64) this.seal();
  }

  /** All chunks, the last one included. */
  take(): string[] {
    this.seal();
    return this.chunks;
  }

  private seal(): void {
    if (this.lines.length === 0) return;
    this.chunks.push(this.lines.join(''));
    this.lines = [];
  }
}

/** Rows of one batch. */
class Batch {
  persons = new CsvBuffer();
  households = new CsvBuffer();
  members = new CsvBuffer();
  residences = new CsvBuffer();
  events = new CsvBuffer();
}

/** One person ready to be written (also what a duplicate record copies). */
interface PersonRecord {
  id: number;
  idNumber: string;
  name: string;
  gender: SexCode;
  /** The birth date column (differs from the ID number's only for birth_date_mismatch). */
  birthDate: string;
  /** The true birth date, as in the ID number (days since 1970-01-01, like every `…Day`; NO_DAY: none). */
  birthDay: number;
  ethnicity: string;
  hukouTown: Town;
  hukouCounty: County;
  hukouAddress: string | null;
  residenceTown: Town;
  residenceAddress: string;
  point: string;
  marital: string;
  education: string | null;
  phone: string | null;
  deathDay: number;
  householdId: number;
  relation: string;
  memberFrom: number;
  residenceFrom: number;
  migrant: boolean;
  marriageDay: number;
}

export async function generatePopulation(
  db: Database,
  options: GenerateOptions,
): Promise<GenerationManifest> {
  const opts = normaliseOptions(options);
  const total = opts.persons;
  const manifest: GenerationManifest = {
    seed: opts.seed,
    persons: 0,
    households: 0,
    asOf: opts.asOf,
    batch: opts.batch,
    defects: Object.fromEntries(
      DEFECT_KINDS.map((k) => [k, { personIds: [] as number[], idNumbers: [] as string[] }]),
    ) as Record<DefectKind, { personIds: number[]; idNumbers: string[] }>,
  };

  const codec = await atRest(db);
  const sequences = await serialSequences(db);
  const start = await startIds(db);
  const hadPersons = start.person > 1;
  // An append with the same seed must not replay the people already there.
  const root = hadPersons ? createRng(opts.seed).fork(`append:${start.person}`) : createRng(opts.seed);
  const ids: Ids = { ...start };
  // Keep concurrent writers (who draw ids from the sequences) out of the id ranges of this run.
  await reserveIds(db, sequences, {
    persons: start.person + total,
    households: start.household + total,
    household_members: start.member + total,
    residences: start.residence + total,
    vital_events: start.event + 4 * total,
  });
  if (total === 0) return manifest;

  const geo = await loadGeography(db);
  const quota = countyQuotas(geo, total, root.fork('quota'));
  const pools = await pointPools(db, geo, quota, root.fork('points'));
  const far = await farProvinces(db);
  const existingSequences = hadPersons
    ? await existingSequenceMaxima(db, codec)
    : new Map<string, SequenceMaxima>();
  const crowded = await sequencesByDate(
    db,
    codec,
    [...existingSequences]
      .filter(([, m]) => m.odd > ROOMY_SEQUENCE || m.even > ROOMY_SEQUENCE)
      .map(([c]) => c),
  );

  const src = csvField(opts.source);
  const batchTag = csvField(opts.batch);
  const tail = `,${src},${batchTag}\n`;
  const asOfDay = opts.asOfDay;
  const asOfDate = opts.asOfDate;
  const counterBase = asOfDay - COUNTER_DAYS + 1;
  const maleNext = new Uint16Array(COUNTER_DAYS);
  const femaleNext = new Uint16Array(COUNTER_DAYS);
  const keys = new Set<string>();
  const defects = new DefectPlan(root.fork('defects'), total, opts.rates);
  const civil = new Int32Array(3);
  const asOfY = asOfDate.getUTCFullYear();
  const asOfM = asOfDate.getUTCMonth() + 1;
  const asOfD = asOfDate.getUTCDate();

  let batch = new Batch();
  let pending: Promise<void> | null = null;
  let slot = 0;
  let written = 0;

  const write = async (b: Batch, persons: number): Promise<void> => {
    const copies: Promise<void>[] = [];
    for (const [target, buffer] of [
      [PERSON_COLUMNS, b.persons],
      [HOUSEHOLD_COLUMNS, b.households],
      [MEMBER_COLUMNS, b.members],
      [RESIDENCE_COLUMNS, b.residences],
      [EVENT_COLUMNS, b.events],
    ] as const) {
      if (buffer.count > 0) copies.push(db.copyCsv(target, buffer.take()));
    }
    await Promise.all(copies);
    written += persons;
    opts.onProgress?.(written, total);
  };
  const flush = async (): Promise<void> => {
    const b = batch;
    batch = new Batch();
    if (pending) await pending;
    if (b.persons.count === 0) return;
    const p = write(b, b.persons.count);
    p.catch(() => undefined); // awaited at the next flush; keep it from counting as unhandled meanwhile
    pending = p;
  };

  // ---- ID numbers -------------------------------------------------------------------------------

  const counterIndex = (day: number): number => {
    const i = day - counterBase;
    if (i < 0 || i >= COUNTER_DAYS)
      throw new RangeError(`birth date ${formatDay(day)} outside the generated range`);
    return i;
  };
  /** Next free sequence for (current county, day, sex), or -1 when that day is full. */
  const takeSequence = (gender: SexCode, day: number): number => {
    const i = counterIndex(day);
    if (gender === '1') {
      const c = maleNext[i]!;
      if (c >= MAX_MALE_COUNTER) return -1;
      maleNext[i] = c + 1;
      return 2 * c + 1;
    }
    const c = femaleNext[i]!;
    if (c >= MAX_FEMALE_COUNTER) return -1;
    femaleNext[i] = c + 1;
    return 2 * c + 2;
  };

  /** Counters above the sequences used per birth date (counties with high existing sequences). */
  const applyUsedByDate = (used: UsedByDate): void => {
    for (let k = 0; k < used.days.length; k++) {
      const i = used.days[k]! - counterBase;
      if (i < 0 || i >= COUNTER_DAYS) continue;
      const odd = used.odd[k]!;
      const even = used.even[k]!;
      if (odd >= 0) maleNext[i] = Math.max(maleNext[i]!, (odd + 1) / 2);
      if (even >= 0) femaleNext[i] = Math.max(femaleNext[i]!, even / 2);
    }
  };

  // ---- rows ---------------------------------------------------------------------------------------

  const event = (personId: number, type: string, day: number, division: string): void => {
    batch.events.push(`${ids.event++},${personId},${type},${formatDay(day)},${division}${tail}`);
  };

  // ---- encryption at rest: ciphertexts and blind indexes are CSV-safe (base64url and dots) -------------

  /** `ciphertext,blind index` of a value of an encrypted column, or `,` for none. */
  const sealed = (table: string, column: string, value: string | null, index?: string | null): string => {
    if (value === null) return ',';
    return `${codec.encodeValue(table, column, value) ?? ''},${index ?? codec.blindIndexFor(table, column, value) ?? ''}`;
  };
  // Members of a household share its addresses: their blind index (one domain for every address column)
  // is computed once per address; each stored value is still its own ciphertext.
  const addressKeys = new Map<string, string | null>();
  const addressIndex = (address: string): string | null => {
    let key = addressKeys.get(address);
    if (key === undefined) {
      if (addressKeys.size >= 16) addressKeys.clear();
      key = codec.blindIndexFor('residences', 'address', address);
      addressKeys.set(address, key);
    }
    return key;
  };

  const emitPerson = (p: PersonRecord): void => {
    const hukouAddress =
      p.hukouAddress === null
        ? ','
        : sealed('persons', 'hukou_address', p.hukouAddress, addressIndex(p.hukouAddress));
    const residenceKey = addressIndex(p.residenceAddress);
    const death = p.deathDay !== NO_DAY ? formatDay(p.deathDay) : '';
    batch.persons.push(
      `${p.id},${sealed('persons', 'id_number', p.idNumber)},${p.name},${p.gender},${p.birthDate},${p.ethnicity},` +
        `${p.hukouTown.code},${hukouAddress},${p.residenceTown.code},` +
        `${sealed('persons', 'residence_address', p.residenceAddress, residenceKey)},${p.point},${p.marital},` +
        `${p.education ?? ''},${sealed('persons', 'phone', p.phone)},` +
        `${p.deathDay !== NO_DAY ? 'deceased' : 'alive'},${death},${p.householdId}${tail}`,
    );
    batch.members.push(
      `${ids.member++},${p.householdId},${p.id},${p.relation},${formatDay(p.memberFrom)},${death}${tail}`,
    );
    batch.residences.push(
      `${ids.residence++},${p.id},${p.residenceTown.code},` +
        `${sealed('residences', 'address', p.residenceAddress, residenceKey)},${p.point},` +
        `${formatDay(p.residenceFrom)},${tail}`,
    );
    event(p.id, 'birth', p.birthDay, p.hukouCounty.code);
    if (p.marriageDay !== NO_DAY) event(p.id, 'marriage', p.marriageDay, p.hukouTown.code);
    if (p.migrant) event(p.id, 'move_in', p.residenceFrom, p.residenceTown.code);
    if (p.deathDay !== NO_DAY) event(p.id, 'death', p.deathDay, p.hukouTown.code);
  };

  const emitHousehold = (
    id: number,
    type: 'family' | 'collective',
    headId: number,
    county: County,
    town: Town,
    address: string,
  ): void => {
    batch.households.push(
      `${id},${county.code}${String(id).padStart(9, '0')},${type},${headId},${town.code},` +
        `${sealed('households', 'address', address, addressIndex(address))}${tail}`,
    );
    manifest.households++;
  };

  const record = (kind: DefectKind, p: PersonRecord): void => {
    manifest.defects[kind].personIds.push(p.id);
    manifest.defects[kind].idNumbers.push(p.idNumber);
  };

  /** Day of y-m-d (of `day`) plus whole years. */
  const plusYears = (day: number, years: number): number => {
    parseCivil(formatDay(day), civil);
    return addYears(civil[0]!, civil[1]!, civil[2]!, years);
  };
  const dayOf = (date: string): number => {
    parseCivil(date, civil);
    return daysFromCivil(civil[0]!, civil[1]!, civil[2]!);
  };

  /** A far-away point for `point_outside_division`: in a province whose bounding box is ≥ 1° away. */
  const farPoint = (rng: Rng, provinceCode: string): string => {
    const province = rng.pick(far.get(provinceCode)!);
    const pool = pools.get(province)!;
    return pool[rng.int(0, pool.length - 1)]!;
  };

  // ---- counties and households --------------------------------------------------------------------

  let target = 0;
  for (const county of geo.counties) {
    target += quota[county.index]!;
    if (slot >= target) continue;
    const rng = root.fork(`county:${county.code}`);
    const province = geo.provinces[county.provinceIndex]!;
    const pickEthnicity = ethnicityPickerFor(county.code);
    const hukouPool = pools.get(county.boundaryCode)!;
    maleNext.fill(0);
    femaleNext.fill(0);
    keys.clear();
    const existing = existingSequences.get(county.code);
    if (existing) {
      // Start every day above the county's highest existing sequence of each parity; when that leaves
      // too little room (e.g. imported numbers with high sequences), look at each birth date instead.
      const used = crowded.get(county.code);
      if (used) applyUsedByDate(used);
      else {
        maleNext.fill(existing.odd < 0 ? 0 : (existing.odd + 1) / 2);
        femaleNext.fill(existing.even < 0 ? 0 : existing.even / 2);
      }
    }

    while (slot < target) {
      const plan = planHousehold(rng);
      const town = rng.pick(county.towns);
      const hukouAddress = town.addressPrefix + householdAddress(rng, county.name, town.name || undefined);
      let residenceCounty = county;
      let residenceTown = town;
      let residenceAddress = hukouAddress;
      let pool: PointPool = hukouPool;
      let moveDay = NO_DAY;
      if (province.counties.length > 1 && rng.chance(MIGRANT_SHARE)) {
        let k = rng.int(0, province.counties.length - 2);
        if (province.counties[k] === county.index) k = province.counties.length - 1;
        residenceCounty = geo.counties[province.counties[k]!]!;
        residenceTown = rng.pick(residenceCounty.towns);
        residenceAddress =
          residenceTown.addressPrefix +
          householdAddress(rng, residenceCounty.name, residenceTown.name || undefined);
        pool = pools.get(residenceCounty.boundaryCode)!;
        moveDay = asOfDay - rng.int(0, MOVE_YEARS * 365);
      }
      const point = pool[rng.int(0, pool.length - 1)]!;
      const householdEthnicity = pickEthnicity(rng);
      const headBirth = birthDateForAge(rng, plan.headAge, asOfDate);
      const headSurname = sampleSurname(rng);
      const roles = plan.roles;
      const spouseRole = plan.hasSpouse && roles[1]?.relation === '10' ? roles[1] : undefined;
      const spouseBirth = spouseRole ? birthDateFor(spouseRole, headBirth, rng, asOfDate) : '';
      let coupleMarriage = NO_DAY;
      if (spouseRole) {
        const earliest = Math.min(
          asOfDay,
          Math.max(
            plusYears(dayOf(headBirth), MARRIAGE_AGE[roles[0]!.sex]),
            plusYears(dayOf(spouseBirth), MARRIAGE_AGE[spouseRole.sex]),
          ),
        );
        coupleMarriage = rng.int(earliest, Math.min(asOfDay, earliest + 12 * 365));
      }
      const householdId = ids.household++;
      const type = roles.length === 1 && rng.chance(COLLECTIVE_SHARE) ? 'collective' : 'family';
      let headId = -1;
      let headFrom = NO_DAY;
      let spouseSurname: string | null = null;

      for (let r = 0; r < roles.length; r++) {
        if (r > 0 && slot >= total) break; // the run is complete: a smaller last household
        const role: RoleSpec = roles[r]!;
        const kind = defects.next(slot);
        const gender = role.sex;
        let birth =
          r === 0
            ? headBirth
            : role === spouseRole
              ? spouseBirth
              : birthDateFor(role, headBirth, rng, asOfDate);
        let birthDay = dayOf(birth);
        // ID number: the next sequence for (county, day, sex); a full day (500 men or 499 women born
        // in this county on one day) moves the birth a day earlier.
        let sequence = takeSequence(gender, birthDay);
        if (sequence < 0) {
          while (sequence < 0) sequence = takeSequence(gender, --birthDay);
          birth = formatDay(birthDay);
        }
        let idNumber = buildIdNumber(county.code, birth, sequence);

        const surname = memberSurname(plan, role, headSurname, spouseSurname, rng);
        if (role.relation === '10') spouseSurname = surname;
        let name = surname + sampleGivenName(rng, gender);
        parseCivil(birth, civil);
        const age = ageOnCivil(civil[0]!, civil[1]!, civil[2]!, asOfY, asOfM, asOfD);
        const marital = maritalStatusFor(plan, role, age, rng);
        const education = sampleEducation(rng, age);
        const phone = age >= 12 ? sampleMobilePhone(rng) : null;
        const ethnicity =
          role.relation === '10' || role.relation === '99' || (role.relation === '50' && gender === '2')
            ? pickEthnicity(rng)
            : householdEthnicity;
        let marriageDay = NO_DAY;
        if (coupleMarriage !== NO_DAY && (r === 0 || role === spouseRole)) marriageDay = coupleMarriage;
        else if (marital === '20' || marital === '30' || marital === '40') {
          const earliest = Math.min(asOfDay, plusYears(birthDay, MARRIAGE_AGE[gender]));
          marriageDay = rng.int(earliest, Math.min(asOfDay, earliest + 15 * 365));
        }
        const memberFrom =
          r === 0
            ? Math.min(asOfDay, plusYears(birthDay, 18))
            : role === spouseRole && coupleMarriage !== NO_DAY
              ? coupleMarriage
              : Math.max(birthDay, headFrom);
        if (r === 0) headFrom = memberFrom;
        const residenceFrom = moveDay !== NO_DAY ? Math.max(moveDay, birthDay) : birthDay;
        // Deaths (not of heads, nor of a duplicate's original) in the last years, after every other event.
        const dies = rng.chance(DEATH_SHARE);
        let deathDay = NO_DAY;
        if (r > 0 && dies && kind !== 'duplicate_person') {
          const earliest = Math.max(
            birthDay,
            asOfDay - DEATH_YEARS * 365,
            memberFrom,
            residenceFrom,
            marriageDay,
          );
          deathDay = rng.int(Math.min(earliest, asOfDay), asOfDay);
        }

        // Defects on this person (a duplicate's original stays clean).
        let birthColumn = birth;
        let personPoint = point;
        let personHukouAddress: string | null = hukouAddress;
        switch (kind) {
          case 'bad_check_digit': {
            const right = idNumber.charAt(17);
            let wrong = CHECK_CHARS.charAt(rng.int(0, 9));
            if (wrong === right) wrong = 'X' === right ? '0' : 'X';
            idNumber = idNumber.slice(0, 17) + wrong;
            break;
          }
          case 'birth_date_mismatch': {
            const shift = rng.int(1, 400);
            birthColumn = formatDay(birthDay + shift <= asOfDay ? birthDay + shift : birthDay - shift);
            break;
          }
          case 'point_outside_division':
            personPoint = farPoint(rng, residenceCounty.provinceCode);
            break;
          case 'missing_required_field':
            personHukouAddress = null;
            break;
          default:
            break;
        }

        // No two persons share (name, gender, birth date, hukou division) unless injected.
        let key = `${name}|${gender}|${birthColumn}|${town.code}`;
        for (let tries = 0; keys.has(key); tries++) {
          name =
            tries < 20
              ? surname + sampleGivenName(rng, gender)
              : surname + sampleGivenName(rng, gender) + rng.pick(NEUTRAL_NAME_CHARS);
          key = `${name}|${gender}|${birthColumn}|${town.code}`;
        }
        keys.add(key);

        const person: PersonRecord = {
          id: ids.person++,
          idNumber,
          name,
          gender,
          birthDate: birthColumn,
          birthDay,
          ethnicity,
          hukouTown: town,
          hukouCounty: county,
          hukouAddress: personHukouAddress,
          residenceTown,
          residenceAddress,
          point: personPoint,
          marital,
          education,
          phone,
          deathDay,
          householdId,
          relation: role.relation,
          memberFrom,
          residenceFrom,
          migrant: moveDay !== NO_DAY,
          marriageDay,
        };
        if (r === 0) headId = person.id;
        emitPerson(person);
        slot++;
        if (kind !== null && kind !== 'duplicate_person') record(kind, person);

        if (kind === 'duplicate_person') {
          // The extra record: same name, gender, birth date and hukou division, its own valid ID
          // number (same county, day and sex) and its own one-person household.
          const dupSequence = takeSequence(gender, birthDay);
          if (dupSequence >= 0) {
            const dupHousehold = ids.household++;
            const dup: PersonRecord = {
              ...person,
              id: ids.person++,
              idNumber: buildIdNumber(county.code, birth, dupSequence),
              householdId: dupHousehold,
              relation: '02',
              memberFrom: person.memberFrom,
            };
            emitPerson(dup);
            emitHousehold(dupHousehold, 'family', dup.id, county, town, hukouAddress);
            slot++;
            record('duplicate_person', dup);
          }
        }
      }
      emitHousehold(householdId, type, headId, county, town, hukouAddress);
      if (batch.persons.count >= BATCH_PERSONS) await flush();
    }
  }
  await flush();
  if (pending) await pending;
  manifest.persons = ids.person - start.person;

  // Statistics first: PGlite has no autovacuum, and the statement below needs sane plans.
  await db.exec('ANALYZE persons, households, household_members, residences, vital_events');
  if (hadPersons) await renameCoincidences(db, start.person, ids.person - 1, manifest, root.fork('rename'));
  await finishSequences(db, sequences);
  for (const kind of DEFECT_KINDS) {
    const list = manifest.defects[kind];
    const order = list.personIds.map((_, i) => i).sort((a, b) => list.personIds[a]! - list.personIds[b]!);
    manifest.defects[kind] = {
      personIds: order.map((i) => list.personIds[i]!),
      idNumbers: order.map((i) => list.idNumbers[i]!),
    };
  }
  return manifest;
}

/** Persons per county: province by census population, county uniform within the province. */
function countyQuotas(geo: Geography, total: number, rng: Rng): Int32Array {
  const pickProvince = weightedPicker(geo.provinces.map((p) => p.population));
  const quota = new Int32Array(geo.counties.length);
  for (let i = 0; i < total; i++) {
    const counties = geo.provinces[pickProvince(rng)]!.counties;
    const c = counties[rng.int(0, counties.length - 1)]!;
    quota[c]!++;
  }
  return quota;
}

/**
 * Point pools: one per boundary polygon used (a city polygon serves all its counties without one),
 * sized to about one point per 8 expected residents, plus every province (for far-away points).
 */
async function pointPools(
  db: Database,
  geo: Geography,
  quota: Int32Array,
  rng: Rng,
): Promise<Map<string, PointPool>> {
  const expected = new Map<string, number>();
  for (const county of geo.counties) {
    expected.set(county.boundaryCode, (expected.get(county.boundaryCode) ?? 0) + quota[county.index]!);
  }
  for (const province of geo.provinces) expected.set(province.code, expected.get(province.code) ?? 0);
  const requests = [...expected.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([code, residents]) => ({
      code,
      points: Math.min(4096, Math.max(32, Math.ceil(residents / 8))),
      seed: rng.int(1, 2_147_483_646),
    }));
  return generatePointPools(db, requests, 'hexewkb');
}

async function serialSequences(db: Database): Promise<Record<Table, string>> {
  const [row] = await db.query<Record<Table, string>>(
    `SELECT ${TABLES.map((t) => `pg_get_serial_sequence('${t}', 'id') AS ${t}`).join(', ')}`,
  );
  for (const t of TABLES) if (!row?.[t]) throw new Error(`table ${t} has no serial id sequence`);
  return row!;
}

async function startIds(db: Database): Promise<Ids> {
  const [row] = await db.query<Record<Table, number>>(
    `SELECT ${TABLES.map((t) => `(SELECT coalesce(max(id), 0) FROM ${t}) AS ${t}`).join(', ')}`,
  );
  return {
    person: row!.persons + 1,
    household: row!.households + 1,
    member: row!.household_members + 1,
    residence: row!.residences + 1,
    event: row!.vital_events + 1,
  };
}

/** Moves each sequence to at least `last[table]`, so `nextval` hands out ids beyond this run's. */
async function reserveIds(
  db: Database,
  sequences: Record<Table, string>,
  last: Record<Table, number>,
): Promise<void> {
  const parts = TABLES.map(
    (t) =>
      `setval(${quote(sequences[t])}, GREATEST((SELECT last_value FROM ${sequences[t]}), ${Math.max(1, last[t])}))`,
  );
  await db.query(`SELECT ${parts.join(', ')}`);
}

/** Afterwards: each sequence at least at the table's max(id). */
async function finishSequences(db: Database, sequences: Record<Table, string>): Promise<void> {
  const parts = TABLES.map(
    (t) =>
      `setval(${quote(sequences[t])}, GREATEST((SELECT last_value FROM ${sequences[t]}), (SELECT coalesce(max(id), 1) FROM ${t})))`,
  );
  await db.query(`SELECT ${parts.join(', ')}`);
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

interface SequenceMaxima {
  /** Highest odd (male) sequence code in the county's existing ID numbers, -1 if none. */
  odd: number;
  /** Highest even (female) sequence code, -1 if none. */
  even: number;
}

/** Highest sequence codes used per birth day (day numbers), -1 for none, of one county. */
interface UsedByDate {
  days: Int32Array;
  odd: Int16Array;
  even: Int16Array;
}

/** Rows per page of the passes over the stored ID numbers. */
const ID_PAGE = 20_000;
const ID17 = /^[0-9]{17}/;

/**
 * Every stored ID number in clear (18-digit ones: the 17-digit body and check character), page by page:
 * the numbers are ciphertexts, so the pass decrypts them in Node (appends only).
 */
async function forEachIdNumber(
  db: Database,
  codec: AtRestCodec,
  visit: (idNumber: string) => void,
): Promise<void> {
  let last = 0;
  for (;;) {
    const page = await db.query<{ id: number; id_number: string }>(
      'SELECT id, id_number FROM persons WHERE id > $1 ORDER BY id LIMIT $2',
      [last, ID_PAGE],
    );
    for (const row of page) {
      const idNumber = codec.decodeValue(row.id_number);
      if (idNumber !== null && ID17.test(idNumber)) visit(idNumber);
    }
    if (page.length < ID_PAGE) return;
    last = Number(page.at(-1)!.id);
  }
}

/** For the given address codes, the highest sequence codes used on each birth date: one pass. */
async function sequencesByDate(
  db: Database,
  codec: AtRestCodec,
  counties: readonly string[],
): Promise<Map<string, UsedByDate>> {
  const result = new Map<string, UsedByDate>();
  if (counties.length === 0) return result;
  const wanted = new Set(counties);
  // county → date (YYYYMMDD) → [odd, even]
  const used = new Map<string, Map<string, [number, number]>>();
  await forEachIdNumber(db, codec, (idNumber) => {
    const c = idNumber.slice(0, 6);
    if (!wanted.has(c)) return;
    let dates = used.get(c);
    if (!dates) {
      dates = new Map();
      used.set(c, dates);
    }
    const d = idNumber.slice(6, 14);
    const maxima = dates.get(d) ?? [-1, -1];
    const sequence = Number(idNumber.slice(14, 17));
    const parity = Number(idNumber.charAt(16)) % 2 === 1 ? 0 : 1;
    maxima[parity] = Math.max(maxima[parity]!, sequence);
    dates.set(d, maxima);
  });
  const rows = [...used].map(([c, dates]) => {
    const sorted = [...dates].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    return {
      c,
      dates: sorted.map(([d]) => d),
      odd: sorted.map(([, m]) => m[0]),
      even: sorted.map(([, m]) => m[1]),
    };
  });
  for (const r of rows) {
    // Dates that are not calendar dates cannot collide with generated numbers: skipped.
    const keep: number[] = [];
    for (let k = 0; k < r.dates.length; k++) {
      const d = r.dates[k]!;
      const year = Number(d.slice(0, 4));
      const month = Number(d.slice(4, 6));
      const day = Number(d.slice(6, 8));
      if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) keep.push(k);
    }
    result.set(r.c, {
      days: Int32Array.from(keep, (k) => {
        const d = r.dates[k]!;
        return daysFromCivil(Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8)));
      }),
      odd: Int16Array.from(keep, (k) => Number(r.odd[k])),
      even: Int16Array.from(keep, (k) => Number(r.even[k])),
    });
  }
  return result;
}

/** Per address code (county), the highest sequence codes already used: one pass over the stored numbers. */
async function existingSequenceMaxima(
  db: Database,
  codec: AtRestCodec,
): Promise<Map<string, SequenceMaxima>> {
  const maxima = new Map<string, SequenceMaxima>();
  await forEachIdNumber(db, codec, (idNumber) => {
    const c = idNumber.slice(0, 6);
    let m = maxima.get(c);
    if (!m) {
      m = { odd: -1, even: -1 };
      maxima.set(c, m);
    }
    const sequence = Number(idNumber.slice(14, 17));
    if (Number(idNumber.charAt(16)) % 2 === 1) m.odd = Math.max(m.odd, sequence);
    else m.even = Math.max(m.even, sequence);
  });
  return maxima;
}

/**
 * Appends only: new persons may coincide with rows that were there before the run on (name, gender,
 * birth date, hukou division). One statement finds every such group that holds a new row; the new
 * rows of a group get a new last character of the given name (an injected duplicate and its original
 * together, so they stay a pair). Repeats until nothing coincides. Exported for tests.
 */
export async function renameCoincidences(
  db: Database,
  firstNew: number,
  lastNew: number,
  manifest: GenerationManifest,
  rng: Rng,
): Promise<void> {
  const injected = new Set(manifest.defects.duplicate_person.personIds);
  for (let round = 0; round < 10; round++) {
    const groups = await db.query<{ ids: number[] }>(
      `WITH fresh AS (
         SELECT DISTINCT name, gender, birth_date, hukou_division_code FROM persons WHERE id BETWEEN $1 AND $2
       )
       SELECT array_agg(p.id ORDER BY p.id) AS ids
         FROM persons p JOIN fresh USING (name, gender, birth_date, hukou_division_code)
        GROUP BY p.name, p.gender, p.birth_date, p.hukou_division_code
       HAVING count(*) > 1`,
      [firstNew, lastNew],
    );
    const renames: { ids: number[] }[] = [];
    for (const { ids } of groups) {
      const fresh = ids.map(Number).filter((id) => id >= firstNew && id <= lastNew);
      const old = ids.length - fresh.length;
      // Exactly an injected pair (original, extra record), nothing else: as intended.
      if (old === 0 && fresh.length === 2 && injected.has(fresh[1]!)) continue;
      // Keep one new row when the group is all new (cannot happen: the generator prevents it).
      renames.push({ ids: old === 0 ? fresh.slice(1) : fresh });
    }
    if (renames.length === 0) return;
    const idList: number[] = [];
    const chars: string[] = [];
    for (const r of renames) {
      const c = rng.pick(NEUTRAL_NAME_CHARS);
      for (const id of r.ids) {
        idList.push(id);
        chars.push(c);
      }
    }
    // The history trigger keeps the previous name in persons_history (rare: appends only).
    await db.query(
      `UPDATE persons p SET name = left(p.name, -1) || r.c
         FROM unnest($1::bigint[], $2::text[]) AS r(id, c) WHERE p.id = r.id`,
      [idList, chars],
    );
    // The ID numbers in the manifest do not change; only names.
  }
  throw new Error('could not make the new persons distinct from the existing ones after 10 rounds');
}

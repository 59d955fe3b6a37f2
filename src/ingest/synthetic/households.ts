/**
 * Household composition for synthetic family households (家庭户), designed for streaming: the
 * generator asks for one plan at a time, draws the head's birth date from `plan.headAge`, then one
 * birth date per member relative to the head. Nothing is kept between households.
 *
 *     const plan = planHousehold(rng);
 *     const headBirth = birthDateForAge(rng, plan.headAge, asOf);
 *     const headSurname = sampleSurname(rng);
 *     let spouseSurname: string | null = null;
 *     for (const role of plan.roles) {               // in order: head, spouse, then the others
 *       const birth = birthDateFor(role, headBirth, rng, asOf); // the head's own role returns headBirth
 *       const surname = memberSurname(plan, role, headSurname, spouseSurname, rng);
 *       if (role.relation === '10') spouseSurname = surname;
 *       const name = surname + sampleGivenName(rng, role.sex);
 *       const marital = maritalStatusFor(plan, role, ageOn(birth, asOf), rng);
 *       … role.relation, role.sex …
 *     }
 *
 * Relations use the GB/T 4761 category codes: 02 户主, 10 配偶, 20 子, 30 女, 40 孙子女, 50 父母,
 * 70 兄弟姐妹, 99 非亲属. Constraints hold by construction: a spouse is of the other sex, of similar
 * age and of legal marriage age; children are born at least 20 (male head: 24) years after the head;
 * parents at least 22 years before; grandchildren at least 42 years after; nobody is born after
 * `asOf` or older than MAX_AGE.
 */

import { addYears, ageOnCivil, daysFromCivil, formatDay, parseCivil } from './calendar.ts';
import {
  AGE_YEAR_WEIGHTS,
  FEMALE,
  MALE,
  MALE_SHARE_BY_AGE,
  MAX_AGE,
  type MaritalStatusCode,
  type SexCode,
  sampleMaritalStatus,
} from './demography.ts';
import { sampleSurname } from './names.ts';
import { type Rng, type WeightedPicker, weightedPicker } from './rng.ts';

/** GB/T 4761 relation to the head of household (category level). */
export type RelationCode = '02' | '10' | '20' | '30' | '40' | '50' | '70' | '99';

export const RELATION_NAMES: Readonly<Record<RelationCode, string>> = {
  '02': '户主',
  '10': '配偶',
  '20': '子',
  '30': '女',
  '40': '孙子女',
  '50': '父母',
  '70': '兄弟姐妹',
  '99': '非亲属',
};

/** One member slot of a planned household. Instances are shared constants: do not mutate. */
export interface RoleSpec {
  readonly relation: RelationCode;
  readonly sex: SexCode;
  /** Member's age minus the head's age, whole years, inclusive bounds. `[0, 0]` for the head. */
  readonly ageGap: readonly [number, number];
  /** Most likely gap (mode of a triangular distribution over `ageGap`). */
  readonly ageGapMode: number;
  /** The member's minimum age (legal marriage age for a spouse, 16 for a non-relative). */
  readonly minAge: number;
}

export interface HouseholdPlan {
  /** Number of members including the head, 1–6. */
  readonly size: number;
  /** The head's age in completed years; draw the head's birth date with `birthDateForAge`. */
  readonly headAge: number;
  /** Whether the head's spouse lives in the household (both are then married, '20'). */
  readonly hasSpouse: boolean;
  /** `roles[0]` is the head (relation '02'); `roles.length === size`. */
  readonly roles: readonly RoleSpec[];
}

/**
 * Family-household size distribution (%) for sizes 1–6; 6 stands for 6 or more.
 * Source: Seventh National Population Census 2020 (single-person 25.4 %; average 2.62 persons,
 * about 2.59 with the 6+ group capped at 6).
 */
export const HOUSEHOLD_SIZE_SHARES: readonly number[] = [25.39, 29.68, 20.99, 13.17, 6.19, 4.58];

/** Oldest age a planned member is aimed at (the 100+ tail stays with the age pyramid). */
const PLAN_MAX_AGE = 100;
const MIN_HEAD_AGE = 18;
const LEGAL_MARRIAGE_AGE: Readonly<Record<SexCode, number>> = { '1': 22, '2': 20 };

function role(
  relation: RelationCode,
  sex: SexCode,
  lo: number,
  hi: number,
  mode: number,
  minAge = 0,
): RoleSpec {
  return Object.freeze({ relation, sex, ageGap: Object.freeze([lo, hi] as const), ageGapMode: mode, minAge });
}

type Kind = 'spouse' | 'child' | 'father' | 'mother' | 'parent' | 'grandchild' | 'sibling' | 'other';

interface RoleSet {
  readonly head: RoleSpec;
  readonly spouse: RoleSpec;
  readonly son: RoleSpec;
  readonly daughter: RoleSpec;
}

const ROLES_BY_HEAD_SEX: Readonly<Record<SexCode, RoleSet>> = {
  '1': {
    head: role('02', MALE, 0, 0, 0),
    spouse: role('10', FEMALE, -6, 2, -2, LEGAL_MARRIAGE_AGE['2']),
    son: role('20', MALE, -44, -24, -29),
    daughter: role('30', FEMALE, -44, -24, -29),
  },
  '2': {
    head: role('02', FEMALE, 0, 0, 0),
    spouse: role('10', MALE, -2, 6, 2, LEGAL_MARRIAGE_AGE['1']),
    son: role('20', MALE, -40, -20, -27),
    daughter: role('30', FEMALE, -40, -20, -27),
  },
};
const FATHER = role('50', MALE, 24, 42, 29);
const MOTHER = role('50', FEMALE, 22, 40, 27);
const GRANDSON = role('40', MALE, -72, -42, -55);
const GRANDDAUGHTER = role('40', FEMALE, -72, -42, -55);
const BROTHER = role('70', MALE, -12, 12, 0);
const SISTER = role('70', FEMALE, -12, 12, 0);
const OTHER_MALE = role('99', MALE, -25, 25, 0, 16);
const OTHER_FEMALE = role('99', FEMALE, -25, 25, 0, 16);

/** Male share among sons/daughters, grandchildren (young cohorts: sex ratio ≈ 113). */
const CHILD_MALE = 0.53;
const SINGLE_PARENT_MOTHER = 0.65;

/** Representative specs of a kind for one head sex, to compute the feasible head-age range. */
function kindSpecs(kind: Kind, headSex: SexCode): readonly RoleSpec[] {
  const set = ROLES_BY_HEAD_SEX[headSex];
  switch (kind) {
    case 'spouse':
      return [set.spouse];
    case 'child':
      return [set.son, set.daughter];
    case 'father':
      return [FATHER];
    case 'mother':
      return [MOTHER];
    case 'parent':
      return [FATHER, MOTHER];
    case 'grandchild':
      return [GRANDSON, GRANDDAUGHTER];
    case 'sibling':
      return [BROTHER, SISTER];
    case 'other':
      return [OTHER_MALE, OTHER_FEMALE];
  }
}

function resolveKind(kind: Kind, set: RoleSet, rng: Rng): RoleSpec {
  switch (kind) {
    case 'spouse':
      return set.spouse;
    case 'child':
      return rng.chance(CHILD_MALE) ? set.son : set.daughter;
    case 'father':
      return FATHER;
    case 'mother':
      return MOTHER;
    case 'parent':
      return rng.chance(SINGLE_PARENT_MOTHER) ? MOTHER : FATHER;
    case 'grandchild':
      return rng.chance(CHILD_MALE) ? GRANDSON : GRANDDAUGHTER;
    case 'sibling':
      return rng.chance(0.5) ? BROTHER : SISTER;
    case 'other':
      return rng.chance(0.55) ? OTHER_MALE : OTHER_FEMALE;
  }
}

/** Compositions (members besides the head) per size, with weights (%) within the size. */
const TEMPLATES: readonly (readonly (readonly [readonly Kind[], number])[])[] = [
  [[[], 100]],
  [
    [['spouse'], 66],
    [['child'], 14],
    [['parent'], 8],
    [['grandchild'], 4],
    [['sibling'], 4],
    [['other'], 4],
  ],
  [
    [['spouse', 'child'], 68],
    [['spouse', 'parent'], 7],
    [['child', 'child'], 5],
    [['spouse', 'grandchild'], 8],
    [['child', 'grandchild'], 4],
    [['father', 'mother'], 4],
    [['child', 'parent'], 4],
  ],
  [
    [['spouse', 'child', 'child'], 50],
    [['spouse', 'child', 'parent'], 20],
    [['spouse', 'child', 'grandchild'], 10],
    [['spouse', 'grandchild', 'grandchild'], 7],
    [['spouse', 'father', 'mother'], 6],
    [['child', 'child', 'parent'], 4],
    [['spouse', 'child', 'sibling'], 3],
  ],
  [
    [['spouse', 'child', 'father', 'mother'], 25],
    [['spouse', 'child', 'child', 'parent'], 25],
    [['spouse', 'child', 'child', 'child'], 15],
    [['spouse', 'child', 'grandchild', 'grandchild'], 15],
    [['spouse', 'child', 'child', 'grandchild'], 12],
    [['spouse', 'child', 'child', 'sibling'], 8],
  ],
  [
    [['spouse', 'child', 'child', 'father', 'mother'], 35],
    [['spouse', 'child', 'child', 'child', 'parent'], 15],
    [['spouse', 'child', 'child', 'child', 'child'], 10],
    [['spouse', 'child', 'child', 'grandchild', 'grandchild'], 20],
    [['spouse', 'child', 'grandchild', 'grandchild', 'parent'], 10],
    [['spouse', 'child', 'child', 'parent', 'sibling'], 10],
  ],
];

/** Share of married-couple households headed by the husband. */
const COUPLE_MALE_HEAD = 0.72;
/** Share of single-person households of men (young migrant workers; widows dominate old age). */
const SINGLE_MALE_HEAD = 0.56;

/**
 * Relative likelihood that a person of a given age heads a family household (headship rate),
 * applied on top of the population weight of that age and sex.
 */
function headship(age: number): number {
  if (age < 20) return 0.05;
  if (age < 25) return 0.15;
  if (age < 30) return 0.28;
  if (age < 35) return 0.4;
  if (age < 40) return 0.46;
  if (age < 60) return 0.54;
  if (age < 75) return 0.6;
  return 0.64;
}

const PEAK_YEAR_WEIGHT = Math.max(...AGE_YEAR_WEIGHTS);

/** Likelihood that a member of this kind, at this age, lives with the head (co-residence). */
function presence(kind: Kind, age: number): number {
  if (kind === 'child') return age < 18 ? 1 : age < 25 ? 0.7 : age < 30 ? 0.45 : age < 40 ? 0.25 : 0.12;
  if (kind === 'grandchild') return age < 15 ? 1 : age < 25 ? 0.5 : 0.15;
  return 1;
}

/** Triangular density on [lo, hi] with the given mode, at integer x (unnormalised: peak 1). */
function triangularDensity(x: number, lo: number, hi: number, mode: number): number {
  if (x < lo || x > hi) return 0;
  if (x === mode) return 1;
  return x < mode ? (x - lo + 0.5) / (mode - lo + 0.5) : (hi - x + 0.5) / (hi - mode + 0.5);
}

/**
 * How likely a head of `headAge` is to have such a member: the member's age-gap distribution,
 * weighted by the population (and co-residence likelihood) at each resulting age. This keeps, say,
 * 99-year-old parents of 70-year-old heads rare and puts young children mostly with heads of 25–45,
 * so that the ages of all generated members stay close to the census pyramid.
 */
function memberLikelihood(kind: Kind, spec: RoleSpec, headAge: number): number {
  const lo = spec.ageGap[0];
  const hi = spec.ageGap[1];
  let sum = 0;
  let norm = 0;
  for (let gap = lo; gap <= hi; gap++) {
    const d = triangularDensity(gap, lo, hi, spec.ageGapMode);
    norm += d;
    const age = headAge + gap;
    if (age < spec.minAge || age < 0 || age > MAX_AGE) continue;
    sum += d * (AGE_YEAR_WEIGHTS[age]! / PEAK_YEAR_WEIGHT) * presence(kind, age);
  }
  return sum / norm;
}

interface Variant {
  readonly set: RoleSet;
  readonly minHeadAge: number;
  readonly pickAge: WeightedPicker;
}

interface Template {
  readonly kinds: readonly Kind[];
  readonly hasSpouse: boolean;
  readonly maleHeadShare: number;
  readonly male: Variant;
  readonly female: Variant;
}

function buildVariant(kinds: readonly Kind[], headSex: SexCode): Variant {
  let min = MIN_HEAD_AGE;
  let max = PLAN_MAX_AGE;
  if (kinds.includes('spouse')) min = Math.max(min, LEGAL_MARRIAGE_AGE[headSex]);
  for (const kind of kinds) {
    for (const spec of kindSpecs(kind, headSex)) {
      min = Math.max(min, spec.minAge - spec.ageGap[1]);
      max = Math.min(max, PLAN_MAX_AGE - spec.ageGap[0]);
    }
  }
  if (max < min) throw new Error(`infeasible household template: ${kinds.join('+')}`);
  const weights: number[] = [];
  for (let age = min; age <= max; age++) {
    const maleShare = MALE_SHARE_BY_AGE[age]!;
    let w = AGE_YEAR_WEIGHTS[age]! * (headSex === MALE ? maleShare : 1 - maleShare) * headship(age);
    for (const kind of kinds) w *= memberLikelihood(kind, kindSpecs(kind, headSex)[0]!, age);
    weights.push(w);
  }
  return { set: ROLES_BY_HEAD_SEX[headSex], minHeadAge: min, pickAge: weightedPicker(weights) };
}

function buildTemplate(kinds: readonly Kind[]): Template {
  const hasSpouse = kinds.includes('spouse');
  const maleHeadShare = hasSpouse
    ? COUPLE_MALE_HEAD
    : kinds.length === 0
      ? SINGLE_MALE_HEAD
      : kinds.every((k) => k === 'child')
        ? 1 - SINGLE_PARENT_MOTHER
        : 0.55;
  return {
    kinds,
    hasSpouse,
    maleHeadShare,
    male: buildVariant(kinds, MALE),
    female: buildVariant(kinds, FEMALE),
  };
}

const templatesBySize: readonly (readonly Template[])[] = TEMPLATES.map((list) =>
  list.map(([kinds]) => buildTemplate(kinds)),
);
const templatePickers: readonly WeightedPicker[] = TEMPLATES.map((list) =>
  weightedPicker(list.map((e) => e[1])),
);
const pickSizeIndex = weightedPicker(HOUSEHOLD_SIZE_SHARES);

/** Mean household size implied by {@link HOUSEHOLD_SIZE_SHARES} (≈ 2.59). */
export const MEAN_HOUSEHOLD_SIZE: number = (() => {
  let total = 0;
  let weighted = 0;
  HOUSEHOLD_SIZE_SHARES.forEach((s, i) => {
    total += s;
    weighted += s * (i + 1);
  });
  return weighted / total;
})();

/**
 * Plans one family household: its size, the head's age and, for every member, the relation to
 * the head, the sex and the admissible age gap. Allocates only the plan and its roles array.
 */
export function planHousehold(rng: Rng): HouseholdPlan {
  const sizeIndex = pickSizeIndex(rng);
  const template = templatesBySize[sizeIndex]![templatePickers[sizeIndex]!(rng)]!;
  const variant = rng.chance(template.maleHeadShare) ? template.male : template.female;
  const headAge = variant.minHeadAge + variant.pickAge(rng);
  const kinds = template.kinds;
  const roles: RoleSpec[] = [variant.set.head];
  for (let i = 0; i < kinds.length; i++) roles.push(resolveKind(kinds[i]!, variant.set, rng));
  return { size: sizeIndex + 1, headAge, hasSpouse: template.hasSpouse, roles };
}

/** Share of children who take the mother's surname (the rest take the father's). */
const MOTHERS_SURNAME = 0.08;

/**
 * The surname of a member, following the usual patrilineal convention: children and paternal
 * grandchildren share the father's surname, siblings and the father of the head share the head's,
 * spouses, mothers and non-relatives have their own. Process `plan.roles` in order: the spouse comes
 * before the children, so pass the spouse's surname once it is known (null before or without).
 */
export function memberSurname(
  plan: HouseholdPlan,
  role: RoleSpec,
  headSurname: string,
  spouseSurname: string | null,
  rng: Rng,
): string {
  const headIsMale = plan.roles[0]!.sex === MALE;
  switch (role.relation) {
    case '02':
    case '70':
      return headSurname;
    case '20':
    case '30': {
      const father = headIsMale ? headSurname : (spouseSurname ?? headSurname);
      const mother = headIsMale ? spouseSurname : headSurname;
      return mother !== null && rng.chance(MOTHERS_SURNAME) ? mother : father;
    }
    case '40':
      return rng.chance(headIsMale ? 0.75 : 0.35) ? headSurname : sampleSurname(rng);
    case '50':
      return role.sex === MALE ? headSurname : sampleSurname(rng);
    default:
      return sampleSurname(rng);
  }
}

/**
 * Marital status of a member: the head and spouse of a couple household, and the head's parents
 * when both live there, are married ('20'); everyone else is drawn by age and sex (a head living
 * without a spouse may still be married, e.g. to a migrant worker).
 */
export function maritalStatusFor(
  plan: HouseholdPlan,
  role: RoleSpec,
  age: number,
  rng: Rng,
): MaritalStatusCode {
  const r = role.relation;
  if (plan.hasSpouse && (r === '02' || r === '10')) return '20';
  if (r === '50') {
    let parents = 0;
    for (const other of plan.roles) if (other.relation === '50') parents++;
    if (parents === 2) return '20';
  }
  return sampleMaritalStatus(rng, age, role.sex);
}

// Scratch for parsing the head's birth date; never escapes.
const civil = new Int32Array(3);

/** A draw from the triangular distribution on [lo, hi] with the given mode, rounded to an integer. */
function triangular(rng: Rng, lo: number, hi: number, mode: number): number {
  if (hi <= lo) return lo;
  const u = rng.nextFloat();
  const span = hi - lo;
  const left = mode - lo;
  const x = u * span < left ? lo + Math.sqrt(u * span * left) : hi - Math.sqrt((1 - u) * span * (hi - mode));
  return Math.round(x);
}

/**
 * The birth date (`YYYY-MM-DD`) of a member, given the head's birth date and `asOf` (UTC date).
 * For the head's own role returns `headBirthDate`. The age gap is drawn from the role's triangular
 * distribution, restricted to what is feasible for the head's actual age (member not born after
 * `asOf`, at least `role.minAge`, at most MAX_AGE). A younger member is born at least |gap| whole
 * years after the head, an older one at least gap years before.
 */
export function birthDateFor(role: RoleSpec, headBirthDate: string, rng: Rng, asOf: Date): string {
  if (role.relation === '02') return headBirthDate;
  parseCivil(headBirthDate, civil);
  const hy = civil[0]!;
  const hm = civil[1]!;
  const hd = civil[2]!;
  const ay = asOf.getUTCFullYear();
  const am = asOf.getUTCMonth() + 1;
  const ad = asOf.getUTCDate();
  const headAge = ageOnCivil(hy, hm, hd, ay, am, ad);

  // Hard limits: born by `asOf`, at most MAX_AGE. Soft: the role's gap range and minimum age.
  const hardLo = -headAge;
  const hardHi = MAX_AGE - 1 - headAge;
  const lo = Math.max(role.ageGap[0], role.minAge - headAge, hardLo);
  const hi = Math.min(role.ageGap[1], hardHi);
  let gap: number;
  if (hi < lo) {
    // Only when the head's age is outside the plan's range: keep the member a possible person.
    gap = Math.min(Math.max(lo, hardLo), hardHi);
  } else {
    gap = triangular(rng, role.ageGap[0], role.ageGap[1], role.ageGapMode);
    // Resample a few times rather than clamping, to avoid piling members up at a bound.
    for (let tries = 0; (gap < lo || gap > hi) && tries < 4; tries++) {
      gap = triangular(rng, role.ageGap[0], role.ageGap[1], role.ageGapMode);
    }
    if (gap < lo || gap > hi) gap = rng.int(lo, hi);
  }

  const today = daysFromCivil(ay, am, ad);
  const base = addYears(hy, hm, hd, -gap);
  let day: number;
  if (gap < 0) {
    const room = today - base;
    day = base + rng.int(0, Math.min(Math.max(room, 0), 364));
  } else if (gap > 0) {
    day = base - rng.int(0, 364);
  } else {
    day = base + rng.int(-182, 182);
  }
  if (role.minAge > 0) {
    const latest = addYears(ay, am, ad, -role.minAge);
    if (day > latest) day = latest;
  }
  if (day > today) day = today;
  return formatDay(day);
}

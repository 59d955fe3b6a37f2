import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addYears, ageOn, MS_PER_DAY, parseCivil, parseDay } from './calendar.ts';
import { birthDateForAge, MAX_AGE } from './demography.ts';
import {
  birthDateFor,
  HOUSEHOLD_SIZE_SHARES,
  type HouseholdPlan,
  MEAN_HOUSEHOLD_SIZE,
  maritalStatusFor,
  memberSurname,
  planHousehold,
  type RoleSpec,
} from './households.ts';
import { createRng } from './rng.ts';

const AS_OF = new Date(Date.UTC(2020, 10, 1));

interface Member {
  readonly role: RoleSpec;
  readonly birth: string;
  readonly age: number;
}

function realise(plan: HouseholdPlan, seed: string | number, asOf: Date): Member[] {
  const rng = createRng(seed);
  const headBirth = birthDateForAge(rng, plan.headAge, asOf);
  return plan.roles.map((role) => {
    const birth = birthDateFor(role, headBirth, rng, asOf);
    return { role, birth, age: ageOn(birth, asOf) };
  });
}

const civil = new Int32Array(3);
/** Day number of the date `years` after `date`. */
function shifted(date: string, years: number): number {
  parseCivil(date, civil);
  return addYears(civil[0]!, civil[1]!, civil[2]!, years);
}

/** The documented constraints a household breaks (empty when it is consistent). */
function violations(plan: HouseholdPlan, members: readonly Member[], asOf: Date): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) out.push(`${what}: ${JSON.stringify({ plan, members })}`);
  };
  const asOfDay = Math.floor(asOf.getTime() / MS_PER_DAY);
  check(plan.size >= 1 && plan.size <= 6, 'size 1–6');
  check(plan.roles.length === plan.size, 'roles.length === size');
  const head = members[0]!;
  check(head.role.relation === '02', 'roles[0] is the head');
  check(head.age === plan.headAge, 'head age as planned');
  check(head.age >= 18, 'adult head');
  check(members.filter((m) => m.role.relation === '02').length === 1, 'one head');
  const spouses = members.filter((m) => m.role.relation === '10');
  check(spouses.length <= 1, 'at most one spouse');
  check(plan.hasSpouse === (spouses.length === 1), 'hasSpouse');
  const parents = members.filter((m) => m.role.relation === '50');
  check(parents.length <= 2, 'at most two parents');
  if (parents.length === 2) check(parents[0]!.role.sex !== parents[1]!.role.sex, 'a father and a mother');

  for (const m of members) {
    const day = parseDay(m.birth);
    const r = m.role.relation;
    check(day <= asOfDay, 'born by asOf');
    check(m.age >= 0 && m.age <= MAX_AGE, 'age 0..MAX_AGE');
    check(m.age >= m.role.minAge, 'minAge');
    if (r === '10') {
      check(m.role.sex !== head.role.sex, 'spouse of the other sex');
      check(Math.abs(m.age - head.age) <= 8, 'spouse of similar age');
      check(m.age >= (m.role.sex === '1' ? 22 : 20), 'spouse of marriageable age');
    } else if (r === '20' || r === '30') {
      check(m.role.sex === (r === '20' ? '1' : '2'), '子 male, 女 female');
      check(day >= shifted(head.birth, 18), 'child ≥ 18 years younger than head');
      for (const s of spouses) check(day >= shifted(s.birth, 16), 'child ≥ 16 years younger than spouse');
    } else if (r === '50') {
      check(day <= shifted(head.birth, -22), 'parent ≥ 22 years older');
    } else if (r === '40') {
      check(day >= shifted(head.birth, 40), 'grandchild ≥ 40 years younger');
    } else if (r === '70') {
      check(Math.abs(m.age - head.age) <= 13, 'sibling of similar age');
    } else if (r === '99') {
      check(m.age >= 16, 'non-relative ≥ 16');
    } else {
      check(r === '02' && m === head, `known relation ${r}`);
    }
  }
  return out;
}

describe('planHousehold', () => {
  it('is deterministic for a seed', () => {
    const a = createRng('hh');
    const b = createRng('hh');
    expect(Array.from({ length: 200 }, () => planHousehold(a))).toEqual(
      Array.from({ length: 200 }, () => planHousehold(b)),
    );
  });

  it('follows the 2020 size distribution: ~25 % single-person, mean ≈ 2.6', () => {
    const rng = createRng('sizes');
    const n = 100_000;
    const counts = [0, 0, 0, 0, 0, 0, 0];
    let persons = 0;
    for (let i = 0; i < n; i++) {
      const plan = planHousehold(rng);
      counts[plan.size]!++;
      persons += plan.size;
    }
    expect(Math.abs(counts[1]! / n - 0.25)).toBeLessThan(0.03);
    expect(Math.abs(persons / n - 2.6)).toBeLessThan(0.1);
    expect(MEAN_HOUSEHOLD_SIZE).toBeCloseTo(2.59, 1);
    HOUSEHOLD_SIZE_SHARES.forEach((s, i) => {
      expect(Math.abs(counts[i + 1]! / n - s / 100)).toBeLessThan(0.01);
    });
  });
});

describe('birthDateFor', () => {
  it('returns the head’s own date for the head', () => {
    const plan = planHousehold(createRng(1));
    expect(birthDateFor(plan.roles[0]!, '1980-05-17', createRng(2), AS_OF)).toBe('1980-05-17');
  });

  it('keeps relations consistent with ages over 30 000 households', () => {
    const root = createRng('constraints');
    const relations = new Set<string>();
    const bad: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      const rng = root.fork(i);
      const plan = planHousehold(rng);
      const members = realise(plan, i, AS_OF);
      bad.push(...violations(plan, members, AS_OF));
      for (const m of members) relations.add(m.role.relation);
    }
    expect(bad.slice(0, 3)).toEqual([]);
    expect([...relations].sort()).toEqual(['02', '10', '20', '30', '40', '50', '70', '99']);
  });

  it('holds for any seed and reference date (property)', () => {
    const minDay = Date.UTC(1995, 0, 1) / MS_PER_DAY;
    const maxDay = Date.UTC(2040, 11, 31) / MS_PER_DAY;
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: minDay, max: maxDay }), (seed, day) => {
        const asOf = new Date(day * MS_PER_DAY);
        const rng = createRng(seed);
        for (let i = 0; i < 20; i++) {
          const plan = planHousehold(rng);
          expect(violations(plan, realise(plan, `${seed}/${i}`, asOf), asOf)).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps members inside the feasible range even for a head outside the plan', () => {
    const rng = createRng('edge');
    const plan = planHousehold(rng);
    for (const role of plan.roles) {
      for (const headBirth of ['2002-11-01', '1918-01-01', '2000-02-29']) {
        const b = birthDateFor(role, headBirth, rng, AS_OF);
        expect(parseDay(b)).toBeLessThanOrEqual(Math.floor(AS_OF.getTime() / MS_PER_DAY));
        expect(ageOn(b, AS_OF)).toBeLessThanOrEqual(MAX_AGE);
      }
    }
  });

  it('gives a whole population close to the census pyramid', () => {
    const root = createRng('pyramid');
    let n = 0;
    let young = 0;
    let old = 0;
    let males = 0;
    for (let i = 0; i < 40_000; i++) {
      const rng = root.fork(i);
      const plan = planHousehold(rng);
      const headBirth = birthDateForAge(rng, plan.headAge, AS_OF);
      for (const role of plan.roles) {
        const age = ageOn(birthDateFor(role, headBirth, rng, AS_OF), AS_OF);
        n++;
        if (age < 15) young++;
        if (age >= 60) old++;
        if (role.sex === '1') males++;
      }
    }
    // Census 2020: 0–14 17.95 %, 60+ 18.70 %, sex ratio 105 (family households only here).
    expect(young / n).toBeGreaterThan(0.15);
    expect(young / n).toBeLessThan(0.21);
    expect(old / n).toBeGreaterThan(0.15);
    expect(old / n).toBeLessThan(0.21);
    const ratio = (100 * males) / (n - males);
    expect(ratio).toBeGreaterThan(98);
    expect(ratio).toBeLessThan(108);
  });
});

describe('memberSurname and maritalStatusFor', () => {
  it('passes the father’s surname to children and marries couples', () => {
    const root = createRng('family');
    let children = 0;
    let sharing = 0;
    for (let i = 0; i < 5_000; i++) {
      const rng = root.fork(i);
      const plan = planHousehold(rng);
      const head = plan.roles[0]!;
      const headSurname = '甲';
      let spouseSurname: string | null = null;
      for (const role of plan.roles) {
        const surname = memberSurname(plan, role, headSurname, spouseSurname, rng);
        if (role.relation === '02' || role.relation === '70') expect(surname).toBe(headSurname);
        if (role.relation === '50' && role.sex === '1') expect(surname).toBe(headSurname);
        if (role.relation === '10') spouseSurname = surname;
        if ((role.relation === '20' || role.relation === '30') && plan.hasSpouse) {
          children++;
          const father = head.sex === '1' ? headSurname : spouseSurname;
          if (surname === father) sharing++;
        }
        const marital = maritalStatusFor(plan, role, 40, rng);
        if (plan.hasSpouse && (role.relation === '02' || role.relation === '10')) expect(marital).toBe('20');
        expect(['10', '20', '30', '40']).toContain(marital);
      }
    }
    expect(sharing / children).toBeGreaterThan(0.85);
  });
});

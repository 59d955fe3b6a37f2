import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ageOn, MS_PER_DAY, parseDay } from './calendar.ts';
import {
  AGE_BANDS,
  birthDate,
  birthDateForAge,
  ETHNIC_GROUP_NAMES,
  ETHNIC_POPULATION_2020,
  ethnicityPickerFor,
  MAX_AGE,
  MOBILE_PREFIXES,
  PROVINCE_ETHNIC_SHARES,
  provinceEthnicWeights,
  sampleAge,
  sampleEducation,
  sampleEthnicity,
  sampleMaritalStatus,
  sampleMobilePhone,
  sampleSex,
} from './demography.ts';
import { createRng, type Rng } from './rng.ts';

const AS_OF = new Date(Date.UTC(2020, 10, 1)); // census reference date, 2020-11-01
const N = 100_000;

describe('age and sex', () => {
  it('follows the 2020 pyramid: 60+ ≈ 18.7 %, 0–14 ≈ 18 %', () => {
    const rng = createRng('age');
    let old = 0;
    let young = 0;
    let max = 0;
    let invalid = 0;
    for (let i = 0; i < N; i++) {
      const age = sampleAge(rng);
      if (age >= 60) old++;
      if (age < 15) young++;
      if (age > max) max = age;
      if (!(Number.isInteger(age) && age >= 0 && age <= MAX_AGE)) invalid++;
    }
    expect(invalid).toBe(0);
    expect(old / N).toBeGreaterThan(0.18);
    expect(old / N).toBeLessThan(0.2);
    expect(young / N).toBeGreaterThan(0.17);
    expect(young / N).toBeLessThan(0.19);
    expect(max).toBeGreaterThan(90);
  });

  it('bands cover 0..MAX_AGE without gaps', () => {
    expect(AGE_BANDS[0]!.from).toBe(0);
    expect(AGE_BANDS.at(-1)!.to).toBe(MAX_AGE);
    for (let i = 1; i < AGE_BANDS.length; i++) expect(AGE_BANDS[i]!.from).toBe(AGE_BANDS[i - 1]!.to + 1);
  });

  it('gives an overall sex ratio near 105, more boys among children, more women in old age', () => {
    const rng = createRng('sex');
    let m = 0;
    let oldM = 0;
    let old = 0;
    let kidM = 0;
    let kids = 0;
    for (let i = 0; i < N; i++) {
      const age = sampleAge(rng);
      const male = sampleSex(rng, age) === '1';
      if (male) m++;
      if (age >= 80) {
        old++;
        if (male) oldM++;
      }
      if (age < 15) {
        kids++;
        if (male) kidM++;
      }
    }
    const ratio = (100 * m) / (N - m);
    expect(ratio).toBeGreaterThan(102);
    expect(ratio).toBeLessThan(108);
    expect(oldM / old).toBeLessThan(0.45);
    expect(kidM / kids).toBeGreaterThan(0.51);
  });

  it('birth dates are real calendar dates matching the drawn age, never after asOf (property)', () => {
    const minDay = Date.UTC(1990, 0, 1) / MS_PER_DAY;
    const maxDay = Date.UTC(2035, 11, 31) / MS_PER_DAY;
    fc.assert(
      fc.property(
        fc.integer({ min: minDay, max: maxDay }),
        fc.integer({ min: 0, max: MAX_AGE }),
        fc.string(),
        (day, age, seed) => {
          const asOf = new Date(day * MS_PER_DAY);
          const rng = createRng(seed);
          for (let i = 0; i < 20; i++) {
            const b = birthDateForAge(rng, age, asOf);
            const parsed = parseDay(b); // throws on a non-date
            expect(parsed).toBeLessThanOrEqual(day);
            expect(new Date(parsed * MS_PER_DAY).toISOString().slice(0, 10)).toBe(b);
            expect(ageOn(b, asOf)).toBe(age);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('birthDate covers the whole year (leap days included) and is deterministic', () => {
    const rng = createRng('bd');
    const months = new Set<string>();
    let leap = 0;
    for (let i = 0; i < N; i++) {
      const b = birthDate(rng, AS_OF);
      months.add(b.slice(5, 7));
      if (b.endsWith('-02-29')) leap++;
    }
    expect(months.size).toBe(12);
    expect(leap).toBeGreaterThan(0);
    const a = createRng(9);
    const b = createRng(9);
    expect(Array.from({ length: 50 }, () => birthDate(a, AS_OF))).toEqual(
      Array.from({ length: 50 }, () => birthDate(b, AS_OF)),
    );
  });
});

/** Percentage of N draws of `pick` that give `code`. */
function share(pick: (rng: Rng) => string, code: string, seed = code): number {
  const rng = createRng(`share:${seed}`);
  let k = 0;
  for (let i = 0; i < N; i++) if (pick(rng) === code) k++;
  return (100 * k) / N;
}

describe('ethnicity', () => {
  it('national: 汉族 ≈ 91.1 % (±1), every code a GB/T 3304 code', () => {
    expect(Math.abs(share(sampleEthnicity, '01', 'eth') - 91.1)).toBeLessThan(1);
    expect(share(sampleEthnicity, '08', 'eth2')).toBeGreaterThan(1);
    expect(Object.keys(ETHNIC_POPULATION_2020).sort()).toEqual(Object.keys(ETHNIC_GROUP_NAMES).sort());
    expect(Object.keys(ETHNIC_GROUP_NAMES)).toHaveLength(56);
  });

  it('autonomous regions raise the local group', () => {
    expect(share(ethnicityPickerFor('540000'), '04', 'xz')).toBeGreaterThan(84);
    expect(Math.abs(share(ethnicityPickerFor('650102'), '05', 'xj') - 45)).toBeLessThan(1.5);
    expect(Math.abs(share(ethnicityPickerFor('45'), '08', 'gx') - 31.4)).toBeLessThan(1.5);
    expect(Math.abs(share(ethnicityPickerFor('640100'), '03', 'nx') - 35)).toBeLessThan(1.5);
    expect(Math.abs(share(ethnicityPickerFor('150000'), '02', 'nm') - 17.7)).toBeLessThan(1.2);
    expect(share(ethnicityPickerFor('320000'), '01')).toBeGreaterThan(98.5);
    expect(ethnicityPickerFor('999999')).toBe(ethnicityPickerFor('710000'));
  });

  it('returns the same precomputed picker for every code of a province', () => {
    expect(ethnicityPickerFor('540000')).toBe(ethnicityPickerFor('540102'));
  });

  it('province tables are valid: known codes, weights summing to 100', () => {
    for (const [province, spec] of Object.entries(PROVINCE_ETHNIC_SHARES)) {
      for (const code of Object.keys(spec.shares))
        expect(ETHNIC_GROUP_NAMES[code], `${province}:${code}`).toBeDefined();
      const weights = provinceEthnicWeights(spec);
      let total = 0;
      for (const [code, w] of weights) {
        expect(ETHNIC_GROUP_NAMES[code]).toBeDefined();
        expect(w).toBeGreaterThanOrEqual(0);
        total += w;
      }
      expect(total).toBeCloseTo(100, 6);
    }
  });
});

describe('marital status', () => {
  it('is never married below the legal age; old women are more often widowed than old men', () => {
    const rng = createRng('marital');
    for (let i = 0; i < 10_000; i++) {
      expect(sampleMaritalStatus(rng, rng.int(0, 21), '1')).toBe('10');
      expect(sampleMaritalStatus(rng, rng.int(0, 19), '2')).toBe('10');
    }
    let widowM = 0;
    let widowF = 0;
    let married40 = 0;
    for (let i = 0; i < 20_000; i++) {
      if (sampleMaritalStatus(rng, 80, '1') === '30') widowM++;
      if (sampleMaritalStatus(rng, 80, '2') === '30') widowF++;
      if (sampleMaritalStatus(rng, 42, '2') === '20') married40++;
    }
    expect(widowF).toBeGreaterThan(widowM * 1.4);
    expect(married40 / 20_000).toBeGreaterThan(0.85);
  });

  it('only produces GB/T 2261.2 codes', () => {
    const rng = createRng('marital-codes');
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++)
      seen.add(sampleMaritalStatus(rng, rng.int(0, MAX_AGE), rng.chance(0.5) ? '1' : '2'));
    expect([...seen].sort()).toEqual(['10', '20', '30', '40']);
  });
});

describe('education', () => {
  it('is null below 6, primary at 6–11, and better for younger adults', () => {
    const rng = createRng('edu');
    const college = (age: number): number => {
      let k = 0;
      for (let i = 0; i < 20_000; i++) {
        const e = sampleEducation(rng, age);
        if (e === '10' || e === '20' || e === '30') k++;
      }
      return k / 20_000;
    };
    for (let age = 0; age < 6; age++) expect(sampleEducation(rng, age)).toBeNull();
    for (let age = 6; age < 12; age++) expect(sampleEducation(rng, age)).toBe('80');
    expect(college(27)).toBeGreaterThan(0.35);
    expect(college(75)).toBeLessThan(0.08);
    const codes = new Set<string | null>();
    for (let i = 0; i < 20_000; i++) codes.add(sampleEducation(rng, rng.int(0, MAX_AGE)));
    for (const c of codes) expect([null, '10', '20', '30', '60', '70', '80', '90']).toContain(c);
  });
});

describe('mobile phone', () => {
  it('is 11 digits with a real prefix, about 8 % without a phone', () => {
    const rng = createRng('phone');
    const prefixes = new Set(MOBILE_PREFIXES.map((p) => p[0]));
    let none = 0;
    const seen = new Set<string>();
    const bad: string[] = [];
    for (let i = 0; i < N; i++) {
      const p = sampleMobilePhone(rng);
      if (p === null) {
        none++;
        continue;
      }
      if (!/^1[3-9]\d{9}$/.test(p) || !prefixes.has(p.slice(0, 3))) bad.push(p);
      seen.add(p);
    }
    expect(bad).toEqual([]);
    expect(Math.abs(none / N - 0.08)).toBeLessThan(0.01);
    expect(seen.size).toBeGreaterThan((N - none) * 0.99);
  });
});

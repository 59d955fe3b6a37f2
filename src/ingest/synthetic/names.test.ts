import { describe, expect, it } from 'vitest';
import {
  FEMALE_NAME_CHARS,
  householdAddress,
  MALE_NAME_CHARS,
  NEUTRAL_NAME_CHARS,
  personName,
  SURNAME_SHARES,
  sampleSurname,
  urbanShare,
} from './names.ts';
import { createRng } from './rng.ts';

const N = 100_000;
const HAN = /^\p{Script=Han}+$/u;

describe('tables', () => {
  it('character pools are large, duplicate-free, disjoint and all Han characters', () => {
    const pools = [MALE_NAME_CHARS, FEMALE_NAME_CHARS, NEUTRAL_NAME_CHARS];
    const all = new Set<string>();
    for (const pool of pools) {
      expect(pool.length).toBeGreaterThanOrEqual(140);
      expect(new Set(pool).size).toBe(pool.length);
      for (const c of pool) {
        expect(c).toMatch(HAN);
        expect(c).toHaveLength(1);
        all.add(c);
      }
    }
    expect(all.size).toBe(pools.reduce((n, p) => n + p.length, 0));
  });

  it('surnames are unique, 1–2 characters, with positive weights', () => {
    const names = SURNAME_SHARES.map((s) => s[0]);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThanOrEqual(100);
    for (const [name, w] of SURNAME_SHARES) {
      expect(name).toMatch(HAN);
      expect(name.length === 1 || name.length === 2).toBe(true);
      expect(w).toBeGreaterThan(0);
    }
    for (const compound of ['欧阳', '司马', '诸葛']) expect(names).toContain(compound);
  });
});

describe('personName', () => {
  it('is deterministic for a seed', () => {
    const a = createRng('n');
    const b = createRng('n');
    const draw = (rng: ReturnType<typeof createRng>) =>
      Array.from({ length: 100 }, (_, i) => personName(rng, i % 2 ? '1' : '2'));
    expect(draw(a)).toEqual(draw(b));
  });

  it('gives 2–4 Han characters with realistic surname frequencies', () => {
    const rng = createRng('names');
    const surnames = new Map<string, number>();
    const lengths = [0, 0, 0, 0, 0];
    let male = 0;
    let female = 0;
    const maleSet = new Set(MALE_NAME_CHARS);
    const femaleSet = new Set(FEMALE_NAME_CHARS);
    const bad: string[] = [];
    for (let i = 0; i < N; i++) {
      const sex = i % 2 === 0 ? '1' : '2';
      const name = personName(rng, sex);
      if (!HAN.test(name) || name.length < 2 || name.length > 4) bad.push(name);
      lengths[name.length]!++;
      const s = sampleSurname(rng);
      surnames.set(s, (surnames.get(s) ?? 0) + 1);
      const last = name.at(-1)!;
      if (sex === '1' && maleSet.has(last)) male++;
      if (sex === '2' && femaleSet.has(last)) female++;
    }
    expect(bad).toEqual([]);
    const top = (s: string) => (surnames.get(s) ?? 0) / N;
    // Table shares are of the whole population; the table's total is a little over 100 %.
    expect(top('王')).toBeGreaterThan(0.055);
    expect(top('王')).toBeLessThan(0.08);
    expect(top('李')).toBeGreaterThan(0.055);
    expect(top('张') + top('刘')).toBeGreaterThan(0.1);
    expect(surnames.get('欧阳') ?? 0).toBeGreaterThan(0);
    expect(lengths[2]! / N).toBeGreaterThan(0.1); // single-character given names
    expect(lengths[3]! / N).toBeGreaterThan(0.6);
    expect(lengths[4]!).toBeGreaterThan(0); // compound surname + 2
    // Given names lean on the gendered pools.
    expect(male / (N / 2)).toBeGreaterThan(0.5);
    expect(female / (N / 2)).toBeGreaterThan(0.5);
  });
});

describe('householdAddress', () => {
  const URBAN = /^\p{Script=Han}+(路|街|大道|大街|巷)\d+号/u;
  const RURAL = /^\p{Script=Han}+村(\d+组)?\d+号$/u;

  it('produces street addresses in districts and village addresses in townships', () => {
    const rng = createRng('addr');
    let urbanInDistrict = 0;
    let ruralInTownship = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = householdAddress(rng, '朝阳区', '建外街道');
      expect(URBAN.test(a) || RURAL.test(a)).toBe(true);
      if (URBAN.test(a)) urbanInDistrict++;
      const b = householdAddress(rng, '某某县', '某某乡');
      expect(URBAN.test(b) || RURAL.test(b)).toBe(true);
      if (RURAL.test(b)) ruralInTownship++;
    }
    expect(urbanInDistrict / 10_000).toBeGreaterThan(0.9);
    expect(ruralInTownship / 10_000).toBeGreaterThan(0.85);
  });

  it('shows the documented shapes', () => {
    const rng = createRng('shapes');
    const all = Array.from({ length: 5_000 }, () => householdAddress(rng, '海淀区'));
    expect(all.some((a) => /^\p{Script=Han}+\d+号\d+栋\d+单元\d{3,4}室$/u.test(a))).toBe(true);
    expect(all.some((a) => /^\p{Script=Han}+村\d+组\d+号$/u.test(a))).toBe(true);
    expect(all.every((a) => a.length <= 60)).toBe(true);
  });

  it('classifies divisions by their suffix', () => {
    expect(urbanShare('朝阳区')).toBeGreaterThan(urbanShare('义乌市'));
    expect(urbanShare('义乌市')).toBeGreaterThan(urbanShare('平谷县'));
    expect(urbanShare('县', '和平街道')).toBeGreaterThan(urbanShare('区', '某镇'));
    expect(urbanShare('区', '某镇')).toBeGreaterThan(urbanShare('区', '某乡'));
  });
});

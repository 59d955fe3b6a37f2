import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  type DivisionLevel,
  isValidDivisionCode,
  PROVINCE_PREFIXES,
  parseDivisionCode,
  structuralParent,
} from './division-code.ts';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

const provincePrefix = fc.constantFrom(...PROVINCE_PREFIXES);
const nonZero2 = fc.integer({ min: 1, max: 99 }).map((n) => pad(n, 2));
const nonZero3 = fc.integer({ min: 1, max: 999 }).map((n) => pad(n, 3));

const provinceCode = provincePrefix.map((p) => p + '0000');
const cityCode = fc.tuple(provincePrefix, nonZero2).map(([p, c]) => p + c + '00');
const countyCode = fc.tuple(provincePrefix, nonZero2, nonZero2).map(([p, c, d]) => p + c + d);
const townCode = fc.tuple(fc.oneof(cityCode, countyCode), nonZero3).map(([parent, t]) => parent + t);
const anyCode = fc.oneof(provinceCode, cityCode, countyCode, townCode);

const LEVEL_RANK: Record<DivisionLevel, number> = { province: 0, city: 1, county: 2, town: 3 };

function levelOf(code: string): DivisionLevel {
  const parsed = parseDivisionCode(code);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value.level;
}

describe('parseDivisionCode known vectors', () => {
  it.each([
    ['110000', { level: 'province', provinceCode: '110000', cityCode: null, countyCode: null }],
    ['440300', { level: 'city', provinceCode: '440000', cityCode: '440300', countyCode: null }],
    ['110101', { level: 'county', provinceCode: '110000', cityCode: '110100', countyCode: '110101' }],
    ['469001', { level: 'county', provinceCode: '460000', cityCode: '469000', countyCode: '469001' }],
    ['110101001', { level: 'town', provinceCode: '110000', cityCode: '110100', countyCode: '110101' }],
    ['441900003', { level: 'town', provinceCode: '440000', cityCode: '441900', countyCode: null }],
  ] as const)('parses %s', (code, expected) => {
    expect(parseDivisionCode(code)).toEqual({ ok: true, value: { code, ...expected } });
  });

  it('normalises 12-digit NBS codes ending in 000', () => {
    const town = parseDivisionCode('110101001000');
    expect(town.ok && town.value.code).toBe('110101001');
    const county = parseDivisionCode(' 110101000000 ');
    expect(county.ok && county.value).toMatchObject({ code: '110101', level: 'county' });
  });

  it.each([
    '',
    '11010',
    '1101010',
    '11010a',
    '990000', // no province 99
    '100000', // no province 10
    '110001', // county part under city 00
    '110101000', // town part 000
    '110000001', // town directly under a province
    '110101001001', // village level
    '000000000000',
  ])('rejects %j', (code) => {
    const result = parseDivisionCode(code);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('INVALID_DIVISION_CODE');
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('every listed province prefix is accepted and nothing else is', () => {
    for (let p = 0; p < 100; p++) {
      const prefix = pad(p, 2);
      expect(isValidDivisionCode(prefix + '0000')).toBe(PROVINCE_PREFIXES.includes(prefix));
    }
    expect(PROVINCE_PREFIXES).toHaveLength(34);
  });
});

describe('structuralParent / ancestorsOf known vectors', () => {
  it('walks a Beijing town up structurally', () => {
    expect(structuralParent('110101001')).toBe('110101');
    expect(structuralParent('110101')).toBe('110100');
    expect(structuralParent('110100')).toBe('110000');
    expect(structuralParent('110000')).toBeNull();
    expect(ancestorsOf('110101001')).toEqual(['110000', '110100', '110101']);
    expect(ancestorsOf('110101001000')).toEqual(['110000', '110100', '110101']);
  });

  it('places towns of a district-less city under the city', () => {
    expect(ancestorsOf('441900003')).toEqual(['440000', '441900']);
  });

  it('throws on invalid codes', () => {
    expect(() => structuralParent('990000')).toThrow(RangeError);
    expect(() => ancestorsOf('abc')).toThrow(RangeError);
  });
});

describe('division code properties', () => {
  it('classifies generated codes by their zero pattern', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          provinceCode.map((c) => [c, 'province'] as const),
          cityCode.map((c) => [c, 'city'] as const),
          countyCode.map((c) => [c, 'county'] as const),
          townCode.map((c) => [c, 'town'] as const),
        ),
        ([code, level]) => {
          const result = parseDivisionCode(code);
          expect(result.ok && result.value.level).toBe(level);
          expect(result.ok && result.value.code).toBe(code);
          expect(result.ok && result.value.provinceCode).toBe(code.slice(0, 2) + '0000');
        },
      ),
    );
  });

  it('parent is one level higher and shares the prefix', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        const parent = structuralParent(code);
        if (parent === null) {
          expect(levelOf(code)).toBe('province');
          return;
        }
        expect(LEVEL_RANK[levelOf(parent)]).toBeLessThan(LEVEL_RANK[levelOf(code)]);
        // Zeroing keeps every non-zero leading digit of the parent.
        expect(code.startsWith(parent.replace(/(00)+$/, ''))).toBe(true);
      }),
    );
  });

  it('ancestors are the iterated parents, province first, ending at the parent', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        const ancestors = ancestorsOf(code);
        expect(ancestors.length).toBeLessThanOrEqual(3);
        expect(ancestors.at(-1) ?? null).toBe(structuralParent(code));
        if (ancestors.length > 0) expect(levelOf(ancestors[0]!)).toBe('province');
        const ranks = ancestors.map((a) => LEVEL_RANK[levelOf(a)]);
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      }),
    );
  });

  it('12-digit NBS form of a town or higher normalises to the same code', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        const nbs = code.padEnd(12, '0');
        expect(parseDivisionCode(nbs)).toEqual(parseDivisionCode(code));
      }),
    );
  });

  it('rejects codes with an unknown province prefix', () => {
    const badPrefix = fc
      .integer({ min: 0, max: 99 })
      .map((n) => pad(n, 2))
      .filter((p) => !PROVINCE_PREFIXES.includes(p));
    fc.assert(
      fc.property(badPrefix, fc.integer({ min: 0, max: 9999 }), (prefix, rest) => {
        expect(isValidDivisionCode(prefix + pad(rest, 4))).toBe(false);
      }),
    );
  });
});

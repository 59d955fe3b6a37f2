import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIdNumber } from '../codes/index.ts';
import type { Geometry } from '../db/geojson.ts';
import { applyMask, maskAddress, maskDate, maskIdNumber, maskName, maskPhone, maskPoint } from './masking.ts';

const DAY_MS = 86_400_000;
const digits = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const isoDate = fc
  .integer({ min: Date.parse('1900-01-01') / DAY_MS, max: Date.parse('2025-12-31') / DAY_MS })
  .map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));
const idNumber = fc
  .tuple(digits(6), isoDate, fc.integer({ min: 0, max: 999 }))
  .map(([county, birth, seq]) => buildIdNumber(county, birth, seq));
const mobile = fc
  .tuple(fc.constantFrom('13', '15', '17', '18', '19'), digits(9))
  .map(([head, tail]) => head + tail);
const hanzi = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCodePoint(c));
const chineseName = fc.array(hanzi, { minLength: 1, maxLength: 5 }).map((cs) => cs.join(''));

const RUNS = { numRuns: 500, seed: 20_261_127 };

describe('maskIdNumber', () => {
  it('keeps the address code and the last four: 110105********1234', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });

  it('never equals the input, keeps length, and keeps only the first 6 and last 4 characters', () => {
    fc.assert(
      fc.property(idNumber, (id) => {
        const masked = maskIdNumber(id);
        expect(masked).not.toBe(id);
        expect(masked).toHaveLength(18);
        expect(masked).toMatch(/^\d{6}\*{8}[\dX]{4}$/);
        expect(masked.slice(0, 6)).toBe(id.slice(0, 6));
        expect(masked.slice(-4)).toBe(id.slice(-4));
        // The birth date and the sequence number's first digits are gone.
        expect(masked).not.toContain(id.slice(6, 14));
      }),
      RUNS,
    );
  });

  it('keeps no more than the first 6 and last 4 characters of any input, and nothing of a short one', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (value) => {
        const masked = maskIdNumber(value);
        expect(masked.length).toBe(value.length);
        if (value.length < 10) {
          expect(masked).toBe('*'.repeat(value.length));
        } else {
          expect(masked.slice(0, 6)).toBe(value.slice(0, 6));
          expect(masked.slice(-4)).toBe(value.slice(-4));
          expect(masked.slice(6, -4)).toBe('*'.repeat(value.length - 10));
        }
      }),
      RUNS,
    );
  });
});

describe('maskPhone', () => {
  it('shows 138****5678', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  it('hides the middle four digits of every mobile number', () => {
    fc.assert(
      fc.property(mobile, (phone) => {
        const masked = maskPhone(phone);
        expect(masked).not.toBe(phone);
        expect(masked).toMatch(/^1\d{2}\*{4}\d{4}$/);
        expect(masked.slice(0, 3) + masked.slice(-4)).toBe(phone.slice(0, 3) + phone.slice(-4));
      }),
      RUNS,
    );
  });

  it('hides at least four characters of anything, and keeps at most seven', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789+-'), maxLength: 30 }), (value) => {
        const masked = maskPhone(value);
        expect(masked.length).toBe(value.length);
        const hidden = [...masked].filter((c) => c === '*').length;
        expect(hidden).toBeGreaterThanOrEqual(Math.min(4, value.length));
        expect(value.length - hidden).toBeLessThanOrEqual(7);
        if (value.length > 0) expect(masked).not.toBe(value);
      }),
      RUNS,
    );
    expect(maskPhone('6512345')).toBe('*******');
    expect(maskPhone('65123456')).toBe('****3456');
    expect(maskPhone('010-65123456')).toBe('010*****3456');
  });
});

describe('maskName', () => {
  it('keeps the surname: 李**', () => {
    expect(maskName('李爱丽')).toBe('李**');
    expect(maskName('王')).toBe('*');
  });

  it('keeps exactly the first character and the length of every name of two or more', () => {
    fc.assert(
      fc.property(chineseName, (name) => {
        const masked = maskName(name);
        const chars = [...name];
        if (chars.length === 1) expect(masked).toBe('*');
        else expect(masked).toBe(chars[0] + '*'.repeat(chars.length - 1));
        expect(masked).not.toBe(name);
      }),
      RUNS,
    );
  });
});

describe('maskAddress', () => {
  it.each([
    ['北京市朝阳区建国路88号3栋2单元501室', '北京市朝阳区****'],
    ['广东省广州市天河区天河路385号', '广东省广州市天河区****'],
    ['上海市浦东新区张江镇', '上海市浦东新区****'],
    ['河北省承德市围场满族蒙古族自治县围场镇', '河北省承德市围场满族蒙古族自治县****'],
    // County-level cities: a 区 in a compound's name or a 市 in a street's is not the county.
    ['江苏省昆山市玉山镇阳光小区3栋', '江苏省昆山市****'],
    ['浙江省义乌市稠城街道城中中路市场', '浙江省义乌市****'],
    ['江苏省昆山市阳光花园小区12幢', '江苏省昆山市****'],
    ['建国路88号', '****'],
  ])('%s → %s', (address, masked) => {
    expect(maskAddress(address)).toBe(masked);
  });

  const part = fc.constantFrom(
    '北京市',
    '广东省',
    '广州市',
    '朝阳区',
    '天河区',
    '昆山市',
    '围场县',
    '玉山镇',
    '阳光小区',
    '建国路',
    '88号',
    '3栋',
    '501室',
    '市场',
    '城中',
    '花园',
    '东',
  );
  const address = fc.array(part, { minLength: 1, maxLength: 8 }).map((ps) => ps.join(''));

  it('keeps a prefix that ends at a county-level unit, drops the rest, and never shows a street or building', () => {
    fc.assert(
      fc.property(address, (value) => {
        const masked = maskAddress(value);
        expect(masked.endsWith('****')).toBe(true);
        const kept = masked.slice(0, -4);
        expect(value.startsWith(kept)).toBe(true);
        if (kept) expect(['区', '县', '旗', '市']).toContain(kept.at(-1));
        for (const marker of ['镇', '路', '号', '栋', '室', '小区']) expect(kept).not.toContain(marker);
        expect([...kept].length).toBeLessThanOrEqual(24);
      }),
      RUNS,
    );
  });
});

describe('maskPoint', () => {
  const coordinate = (min: number, max: number) =>
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

  it('snaps to the centre of the 0.01° cell, about 1 km', () => {
    expect(maskPoint({ type: 'Point', coordinates: [116.4637281, 39.9127463] })).toEqual({
      type: 'Point',
      coordinates: [116.465, 39.915],
    });
  });

  it('moves every point at most half a cell, onto a cell centre shared by the whole cell', () => {
    fc.assert(
      fc.property(coordinate(73, 135), coordinate(3, 54), (x, y) => {
        const masked = maskPoint({ type: 'Point', coordinates: [x, y] }) as Extract<
          Geometry,
          { type: 'Point' }
        >;
        const [mx, my] = masked.coordinates;
        for (const [m, v] of [
          [mx, x],
          [my, y],
        ] as const) {
          expect(Math.abs(m - v)).toBeLessThanOrEqual(0.005 + 1e-9);
          // A cell centre: x.xx5
          expect(Math.abs(m * 1000 - Math.round(m * 1000))).toBeLessThan(1e-6);
          expect(Math.round(m * 1000) % 10).toBe(5);
        }
        // Any other point of the same cell masks to the same value: nothing finer survives.
        const other = maskPoint({
          type: 'Point',
          coordinates: [(Math.floor(x * 100) + 0.37) / 100, (Math.floor(y * 100) + 0.81) / 100],
        });
        expect(other).toEqual(masked);
      }),
      RUNS,
    );
  });

  it('hides every other geometry entirely', () => {
    expect(
      maskPoint({
        type: 'LineString',
        coordinates: [
          [116.1, 39.1],
          [116.2, 39.2],
        ],
      }),
    ).toEqual({
      type: 'Point',
      coordinates: [0, 0],
    });
  });
});

describe('applyMask', () => {
  it('reduces a date to its year, redacts, and passes nulls', () => {
    expect(maskDate('1949-12-31')).toBe('1949');
    expect(applyMask('date', '1980-05-17')).toBe('1980');
    expect(applyMask('redact', '110105001001')).toBe('***');
    expect(applyMask('idNumber', null)).toBeNull();
    expect(applyMask('phone', undefined)).toBeUndefined();
  });

  it('fails closed: a field that cannot be masked yields null, whatever it held', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.boolean()), (value) => {
        expect(applyMask('none', value)).toBeNull();
      }),
      RUNS,
    );
  });
});

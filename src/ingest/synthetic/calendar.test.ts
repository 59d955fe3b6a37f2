import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addYears,
  ageOn,
  daysFromCivil,
  daysInMonth,
  formatDay,
  isLeapYear,
  MS_PER_DAY,
  parseCivil,
  parseDay,
} from './calendar.ts';

// Day numbers for 1000-01-01 .. 9999-12-31.
const MIN_DAY = Date.UTC(1000, 0, 1) / MS_PER_DAY;
const MAX_DAY = Date.UTC(9999, 11, 31) / MS_PER_DAY;

describe('calendar', () => {
  it('formatDay agrees with Date for every day in range (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_DAY, max: MAX_DAY }), (day) => {
        expect(formatDay(day)).toBe(new Date(day * MS_PER_DAY).toISOString().slice(0, 10));
        expect(parseDay(formatDay(day))).toBe(day);
      }),
      { numRuns: 2000 },
    );
  });

  it('daysFromCivil agrees with Date.UTC', () => {
    for (const [y, m, d] of [
      [1970, 1, 1],
      [2000, 2, 29],
      [1900, 3, 1],
      [2024, 12, 31],
      [1600, 1, 1],
    ] as const) {
      expect(daysFromCivil(y, m, d)).toBe(Date.UTC(y, m - 1, d) / MS_PER_DAY);
    }
  });

  it('knows leap years and month lengths', () => {
    expect([1900, 2000, 2023, 2024].map(isLeapYear)).toEqual([false, true, false, true]);
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2023, 2)).toBe(28);
    expect(daysInMonth(2023, 4)).toBe(30);
  });

  it('addYears maps 29 February to 28 February in common years', () => {
    expect(formatDay(addYears(2024, 2, 29, -1))).toBe('2023-02-28');
    expect(formatDay(addYears(2024, 2, 29, -4))).toBe('2020-02-29');
    expect(formatDay(addYears(2023, 7, 15, 10))).toBe('2033-07-15');
  });

  it('parses only real calendar dates', () => {
    const out = new Int32Array(3);
    expect(Array.from(parseCivil('2020-02-29', out))).toEqual([2020, 2, 29]);
    for (const bad of [
      '2021-02-29',
      '2020-13-01',
      '2020-00-10',
      '2020-1-01',
      '2020/01/01',
      'abcd-ef-gh',
      '',
    ]) {
      expect(() => parseDay(bad)).toThrow(RangeError);
    }
  });

  it('computes completed years', () => {
    const asOf = new Date(Date.UTC(2020, 10, 1));
    expect(ageOn('2000-11-01', asOf)).toBe(20);
    expect(ageOn('2000-11-02', asOf)).toBe(19);
    expect(ageOn('2020-11-01', asOf)).toBe(0);
    expect(ageOn('2000-02-29', new Date(Date.UTC(2021, 1, 28)))).toBe(20);
    expect(ageOn('2000-02-29', new Date(Date.UTC(2021, 2, 1)))).toBe(21);
  });
});

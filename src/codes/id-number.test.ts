import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIdNumber, idCheckChar, isValidIdNumber, parseIdNumber } from './id-number.ts';

const TODAY = '2025-06-01';
const DAY_MS = 86_400_000;

/**
 * Independent oracle straight from ISO 7064 MOD 11-2 as used by GB 11643-1999:
 * Σ a_i·2^(i-1) ≡ 1 (mod 11), i counted from the right (check char i = 1, value X = 10).
 */
function satisfiesMod11_2(id18: string): boolean {
  let sum = 0;
  for (let i = 0; i < 18; i++) {
    const ch = id18[17 - i]!;
    const value = ch === 'X' ? 10 : Number(ch);
    sum += value * (2 ** i % 11);
  }
  return sum % 11 === 1;
}

const isoDate = (min: string, max: string) =>
  fc
    .integer({ min: Date.parse(min) / DAY_MS, max: Date.parse(max) / DAY_MS })
    .map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));

const digits = (n: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

const validId = fc
  .tuple(digits(6), isoDate('1800-01-01', TODAY), fc.integer({ min: 0, max: 999 }))
  .map(([address, date, seq]) => buildIdNumber(address, date, seq));

describe('parseIdNumber known vectors', () => {
  it('accepts the GB 11643 published example 11010519491231002X', () => {
    expect(parseIdNumber('11010519491231002X', TODAY)).toEqual({
      ok: true,
      value: {
        idNumber: '11010519491231002X',
        addressCode: '110105',
        birthDate: '1949-12-31',
        sequence: '002',
        gender: 'female',
        checkChar: 'X',
        legacy15: false,
      },
    });
  });

  it('normalises a lower-case x and surrounding whitespace', () => {
    const result = parseIdNumber('  11010519491231002x ', TODAY);
    expect(result.ok && result.value.idNumber).toBe('11010519491231002X');
  });

  it('rejects 110105194912310021 with a check-digit message', () => {
    expect(parseIdNumber('110105194912310021', TODAY)).toEqual({
      ok: false,
      code: 'INVALID_ID_NUMBER',
      reason: 'check_digit',
      message: 'check digit is 1, expected X',
    });
  });

  it('accepts 440524188001010014 (born 1880, male)', () => {
    const result = parseIdNumber('440524188001010014', TODAY);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.birthDate).toBe('1880-01-01');
      expect(result.value.gender).toBe('male');
      expect(result.value.sequence).toBe('001');
    }
  });

  it('accepts 11010119900307803X (check char verified by the MOD 11-2 oracle)', () => {
    expect(satisfiesMod11_2('11010119900307803X')).toBe(true);
    const result = parseIdNumber('11010119900307803X', TODAY);
    expect(result.ok && result.value.gender).toBe('male');
  });

  it('upgrades the 15-digit form of the published example', () => {
    const result = parseIdNumber('110105491231002', TODAY);
    expect(result.ok && result.value).toMatchObject({
      idNumber: '11010519491231002X',
      birthDate: '1949-12-31',
      legacy15: true,
    });
  });

  it.each([
    ['', 'format'],
    ['1101051949123100', 'format'],
    ['11010519491231002Y', 'format'],
    ['X10105194912310021', 'format'],
    ['11010549123100X', 'format'],
    ['110105194902300021', 'birth_date'], // 30 February
    ['110105190002290021', 'birth_date'], // 1900 is not a leap year
    ['110105179912310021', 'birth_date'], // before 1800
    ['110105491301002', 'birth_date'], // legacy 15 with month 13
  ] as const)('rejects %j with reason %s', (input, reason) => {
    const result = parseIdNumber(input, TODAY);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.code).toBe('INVALID_ID_NUMBER');
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('accepts 29 February in a leap year', () => {
    expect(isValidIdNumber(buildIdNumber('110105', '2000-02-29', 1), TODAY)).toBe(true);
  });

  it('rejects a birth date after today', () => {
    const id = buildIdNumber('110105', '2025-06-02', 1);
    const result = parseIdNumber(id, TODAY);
    expect(!result.ok && result.message).toBe('birth date 2025-06-02 is in the future (today is 2025-06-01)');
    expect(isValidIdNumber(id, '2025-06-02')).toBe(true);
  });

  it('reads a Date "today" in China Standard Time', () => {
    const id = buildIdNumber('110105', '2025-01-01', 1);
    // 16:30 UTC on 31 Dec is already 1 Jan in Beijing.
    expect(isValidIdNumber(id, new Date('2024-12-31T16:30:00Z'))).toBe(true);
    expect(isValidIdNumber(id, new Date('2024-12-31T15:30:00Z'))).toBe(false);
  });
});

describe('buildIdNumber / idCheckChar', () => {
  it('rejects malformed arguments', () => {
    expect(() => buildIdNumber('11010', '1990-01-01', 1)).toThrow(RangeError);
    expect(() => buildIdNumber('110105', '1990-02-30', 1)).toThrow(RangeError);
    expect(() => buildIdNumber('110105', '19900101', 1)).toThrow(RangeError);
    expect(() => buildIdNumber('110105', '1990-01-01', 1000)).toThrow(RangeError);
    expect(() => buildIdNumber('110105', '1990-01-01', 1.5)).toThrow(RangeError);
    expect(() => idCheckChar('1234')).toThrow(RangeError);
  });

  it('agrees with the MOD 11-2 oracle', () => {
    fc.assert(
      fc.property(digits(17), (first17) => {
        expect(satisfiesMod11_2(first17 + idCheckChar(first17))).toBe(true);
      }),
    );
  });
});

describe('parseIdNumber properties', () => {
  it('round-trips buildIdNumber (address, birth date, sequence, gender parity)', () => {
    fc.assert(
      fc.property(
        digits(6),
        isoDate('1800-01-01', TODAY),
        fc.integer({ min: 0, max: 999 }),
        (address, date, seq) => {
          const id = buildIdNumber(address, date, seq);
          const result = parseIdNumber(id, TODAY);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect(result.value).toMatchObject({
            idNumber: id,
            addressCode: address,
            birthDate: date,
            sequence: String(seq).padStart(3, '0'),
            gender: seq % 2 === 1 ? 'male' : 'female',
            legacy15: false,
          });
        },
      ),
    );
  });

  it('detects every single-character substitution', () => {
    fc.assert(
      fc.property(
        validId,
        fc.integer({ min: 0, max: 17 }),
        fc.integer({ min: 1, max: 10 }),
        (id, pos, shift) => {
          // Position 18 ranges over 11 symbols (0-9, X); the others over 10 digits.
          const symbols = pos === 17 ? '0123456789X' : '0123456789';
          const index = symbols.indexOf(id[pos]!);
          const replacement = symbols[(index + shift) % symbols.length]!;
          fc.pre(replacement !== id[pos]);
          const mutated = id.slice(0, pos) + replacement + id.slice(pos + 1);
          const result = parseIdNumber(mutated, TODAY);
          expect(result.ok).toBe(false);
          if (!result.ok) expect(['birth_date', 'check_digit']).toContain(result.reason);
        },
      ),
    );
  });

  it('converts a 15-digit number consistently with its 18-character form', () => {
    fc.assert(
      fc.property(
        digits(6),
        isoDate('1900-01-01', '1999-12-31'),
        fc.integer({ min: 0, max: 999 }),
        (address, date, seq) => {
          const seq3 = String(seq).padStart(3, '0');
          const legacy = address + date.slice(2).replaceAll('-', '') + seq3;
          const fromLegacy = parseIdNumber(legacy, TODAY);
          const expected = buildIdNumber(address, date, seq);
          expect(fromLegacy.ok).toBe(true);
          if (!fromLegacy.ok) return;
          expect(fromLegacy.value.idNumber).toBe(expected);
          expect(fromLegacy.value.legacy15).toBe(true);
          const from18 = parseIdNumber(expected, TODAY);
          expect(from18).toEqual({ ok: true, value: { ...fromLegacy.value, legacy15: false } });
        },
      ),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (s) => {
        const result = parseIdNumber(s, TODAY);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

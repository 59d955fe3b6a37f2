import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildUscc,
  isValidUscc,
  orgCodeCheckChar,
  parseUscc,
  USCC_ALPHABET,
  USCC_REGISTRATION_DEPTS,
  usccCheckChar,
} from './uscc.ts';

/** Independent oracle: GB 32100 check means Σ v_i·3^(i-1) + v_18 ≡ 0 (mod 31). */
function satisfiesUsccCheck(code: string): boolean {
  let sum = 0;
  for (let i = 0; i < 18; i++) {
    const weight = i < 17 ? 3 ** i % 31 : 1;
    sum += USCC_ALPHABET.indexOf(code[i]!) * weight;
  }
  return sum % 31 === 0;
}

/** Independent oracle: GB 11714 check means Σ v_i·w_i + c ≡ 0 (mod 11), X = 10. */
function satisfiesOrgCheck(orgCode: string): boolean {
  const weights = [3, 7, 9, 10, 5, 8, 4, 2, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) {
    const ch = orgCode[i]!;
    const value = i === 8 && ch === 'X' ? 10 : Number.parseInt(ch, 36);
    sum += value * weights[i]!;
  }
  return sum % 11 === 0;
}

const deptAndCategory = fc.constantFrom(
  ...USCC_REGISTRATION_DEPTS.flatMap((d) => d.categories.map((c) => [d.code, c.code] as const)),
);
const division = fc.integer({ min: 0, max: 999_999 }).map((n) => String(n).padStart(6, '0'));
const usccChars = (n: number) =>
  fc.string({ unit: fc.constantFrom(...USCC_ALPHABET), minLength: n, maxLength: n });

const validUscc = fc
  .tuple(deptAndCategory, division, usccChars(8))
  .map(([[dept, cat], div, body]) => buildUscc(dept, cat, div, body));

/** Replaces position 17 (organisation-code check) and repairs the final check. */
function withBrokenOrgCheck(code: string, replacement: string): string {
  const first17 = code.slice(0, 16) + replacement;
  return first17 + usccCheckChar(first17);
}

describe('parseUscc known vectors', () => {
  it('accepts the commonly cited 91350100M000100Y43', () => {
    expect(parseUscc('91350100M000100Y43')).toEqual({
      ok: true,
      value: {
        uscc: '91350100M000100Y43',
        registrationDept: '9',
        registrationDeptName: '工商',
        category: '1',
        categoryName: '企业',
        divisionCode: '350100',
        orgCode: 'M000100Y4',
        orgCodeValid: true,
        pilotException: false,
      },
    });
    expect(satisfiesUsccCheck('91350100M000100Y43')).toBe(true);
    expect(satisfiesOrgCheck('M000100Y4')).toBe(true);
  });

  it('accepts 911101080828461726', () => {
    const result = parseUscc('911101080828461726');
    expect(result.ok && result.value).toMatchObject({ divisionCode: '110108', orgCode: '082846172' });
    expect(result.ok && result.value.orgCodeValid).toBe(true);
  });

  it('normalises case and whitespace', () => {
    const result = parseUscc(' 91350100m000100y43\n');
    expect(result.ok && result.value.uscc).toBe('91350100M000100Y43');
  });

  it('rejects a wrong final check character', () => {
    expect(parseUscc('91350100M000100Y44')).toEqual({
      ok: false,
      code: 'INVALID_USCC',
      reason: 'check_char',
      message: 'check character is 4, expected 3',
    });
  });

  it('accepts a pilot code whose organisation-code check is wrong', () => {
    const pilot = withBrokenOrgCheck('91350100M000100Y43', '5');
    expect(pilot).toBe('91350100M000100Y5' + usccCheckChar('91350100M000100Y5'));
    const result = parseUscc(pilot);
    expect(result.ok && result.value).toMatchObject({
      orgCode: 'M000100Y5',
      orgCodeValid: false,
      pilotException: true,
    });
  });

  it.each([
    ['', 'format'],
    ['91350100M000100Y4', 'format'],
    ['91350100M000100Y433', 'format'],
    ['91350100M00010OY43', 'format'], // letter O
    ['9135010IM000100Y43', 'format'], // letter I
    ['913501A0M000100Y43', 'format'], // letter in the division code
  ] as const)('rejects %j with reason %s', (input, reason) => {
    const result = parseUscc(input);
    expect(!result.ok && result.reason).toBe(reason);
  });

  it('rejects unknown department and category codes that carry a correct check character', () => {
    const unknownDept = 'B1350100M000100Y4';
    const deptResult = parseUscc(unknownDept + usccCheckChar(unknownDept));
    expect(!deptResult.ok && deptResult.reason).toBe('registration_dept');

    const unknownCategory = '94350100M000100Y4';
    const categoryResult = parseUscc(unknownCategory + usccCheckChar(unknownCategory));
    expect(!categoryResult.ok && categoryResult).toMatchObject({
      reason: 'category',
      message: 'category code 4 is not defined for registration department 9 (工商)',
    });
  });
});

describe('check-character helpers', () => {
  it('orgCodeCheckChar maps 11 to 0 and 10 to X', () => {
    expect(orgCodeCheckChar('00000000')).toBe('0'); // Σ = 0 → 11 → 0
    expect(orgCodeCheckChar('00000001')).toBe('9'); // Σ = 2 → 9
    expect(orgCodeCheckChar('00000006')).toBe('X'); // Σ = 12 ≡ 1 → 10 → X
  });

  it('orgCodeCheckChar agrees with the GB 11714 oracle, including letters outside the USCC alphabet', () => {
    const body = fc.string({
      unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(body, (b) => {
        expect(satisfiesOrgCheck(b + orgCodeCheckChar(b))).toBe(true);
      }),
    );
  });

  it('usccCheckChar agrees with the GB 32100 oracle', () => {
    fc.assert(
      fc.property(usccChars(17), (first17) => {
        expect(satisfiesUsccCheck(first17 + usccCheckChar(first17))).toBe(true);
      }),
    );
  });

  it('rejects malformed helper and builder arguments', () => {
    expect(() => orgCodeCheckChar('0000000')).toThrow(RangeError);
    expect(() => orgCodeCheckChar('0000000a')).toThrow(RangeError);
    expect(() => usccCheckChar('91350100M000100Y')).toThrow(RangeError);
    expect(() => usccCheckChar('91350100M000100YI')).toThrow(RangeError);
    expect(() => buildUscc('B', '1', '350100', 'M000100Y')).toThrow(RangeError);
    expect(() => buildUscc('9', '4', '350100', 'M000100Y')).toThrow(RangeError);
    expect(() => buildUscc('9', '1', '35010', 'M000100Y')).toThrow(RangeError);
    expect(() => buildUscc('9', '1', '350100', 'M000100O')).toThrow(RangeError);
  });

  it('every department lists distinct categories', () => {
    const depts = USCC_REGISTRATION_DEPTS.map((d) => d.code);
    expect(new Set(depts).size).toBe(depts.length);
    for (const d of USCC_REGISTRATION_DEPTS) {
      const cats = d.categories.map((c) => c.code);
      expect(new Set(cats).size).toBe(cats.length);
    }
  });
});

describe('parseUscc properties', () => {
  it('round-trips buildUscc', () => {
    fc.assert(
      fc.property(deptAndCategory, division, usccChars(8), ([dept, cat], div, body) => {
        const code = buildUscc(dept, cat, div, body);
        expect(satisfiesUsccCheck(code)).toBe(true);
        const result = parseUscc(code);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.value).toMatchObject({
          uscc: code,
          registrationDept: dept,
          category: cat,
          divisionCode: div,
          orgCode: body + orgCodeCheckChar(body),
          orgCodeValid: true,
          pilotException: false,
        });
      }),
    );
  });

  it('detects every single-character substitution within the alphabet', () => {
    fc.assert(
      fc.property(
        validUscc,
        fc.integer({ min: 0, max: 17 }),
        fc.integer({ min: 1, max: 30 }),
        (code, pos, shift) => {
          const index = USCC_ALPHABET.indexOf(code[pos]!);
          const replacement = USCC_ALPHABET[(index + shift) % 31]!;
          const mutated = code.slice(0, pos) + replacement + code.slice(pos + 1);
          const result = parseUscc(mutated);
          expect(result.ok).toBe(false);
          // A well-formed substitution can only be caught by the final check.
          const divisionStillDigits = /^\d{6}$/.test(mutated.slice(2, 8));
          expect(!result.ok && result.reason).toBe(divisionStillDigits ? 'check_char' : 'format');
        },
      ),
    );
  });

  it('accepts any wrong organisation-code check as a pilot exception when the final check is right', () => {
    fc.assert(
      fc.property(validUscc, fc.constantFrom(...USCC_ALPHABET), (code, replacement) => {
        fc.pre(replacement !== code[16]);
        const result = parseUscc(withBrokenOrgCheck(code, replacement));
        expect(result.ok && result.value.orgCodeValid).toBe(false);
        expect(result.ok && result.value.pilotException).toBe(true);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        expect(typeof isValidUscc(s)).toBe('boolean');
      }),
    );
  });
});

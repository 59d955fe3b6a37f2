/**
 * GB 11643-1999 citizen identity number (公民身份号码).
 *
 * Layout per GB 11643-1999 (号码的结构): 6-digit address code, 8-digit birth
 * date YYYYMMDD, 3-digit sequence code (odd = male, even = female), and one
 * check character computed with ISO 7064:1983 MOD 11-2.
 *
 * Numbers issued under the previous (1989) scheme are 15 digits (address +
 * YYMMDD + sequence, no check character). They all denote 20th-century births
 * and are upgraded by inserting the century "19" and appending the check
 * character, which is how they were converted when the 18-digit form came in.
 *
 * The address code is deliberately not checked against a province list: it
 * records where the number was first issued, codes of abolished divisions
 * remain valid for life, and the 2023 foreign permanent-resident card uses the
 * same 18-character layout with a leading 9.
 */

export type Gender = 'male' | 'female';

export interface IdNumber {
  /** Normalised 18-character form, check character `X` in upper case. */
  readonly idNumber: string;
  readonly addressCode: string;
  /** `YYYY-MM-DD`. */
  readonly birthDate: string;
  readonly sequence: string;
  readonly gender: Gender;
  readonly checkChar: string;
  /** True when the input was a 15-digit pre-1999 number that was upgraded. */
  readonly legacy15: boolean;
}

export type IdNumberErrorReason = 'format' | 'birth_date' | 'check_digit';

export interface IdNumberError {
  readonly ok: false;
  readonly code: 'INVALID_ID_NUMBER';
  readonly reason: IdNumberErrorReason;
  readonly message: string;
}

export type IdNumberResult = { readonly ok: true; readonly value: IdNumber } | IdNumberError;

/** ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for positions i = 1..17, as tabulated in GB 11643-1999. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character indexed by the weighted sum mod 11 (X stands for 10). */
const CHECK_CHARS = '10X98765432';
/** The standard has no lower bound; 1800 rejects obvious garbage while keeping historic records. */
const MIN_BIRTH_YEAR = 1800;
/** China Standard Time has been UTC+8 without daylight saving since 1991. */
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** Computes the MOD 11-2 check character for the first 17 digits. Throws on malformed input. */
export function idCheckChar(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new RangeError(`idCheckChar expects 17 digits, got "${first17}"`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += Number(first17[i]) * WEIGHTS[i]!;
  }
  return CHECK_CHARS[sum % 11]!;
}

/**
 * Builds a valid 18-character number, for the synthetic-data generator.
 * Throws `RangeError` on bad arguments: they are programming errors, not user input.
 */
export function buildIdNumber(addressCode: string, birthDate: string, sequence: number): string {
  if (!/^\d{6}$/.test(addressCode)) {
    throw new RangeError(`addressCode must be 6 digits, got "${addressCode}"`);
  }
  const date = /^\d{4}-\d{2}-\d{2}$/.test(birthDate) ? birthDate.replaceAll('-', '') : '';
  if (date === '' || !isCalendarDate(date)) {
    throw new RangeError(`birthDate must be a real YYYY-MM-DD date, got "${birthDate}"`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 999) {
    throw new RangeError(`sequence must be an integer 0..999, got ${sequence}`);
  }
  const first17 = addressCode + date + String(sequence).padStart(3, '0');
  return first17 + idCheckChar(first17);
}

/**
 * Parses and validates an 18-character or legacy 15-digit number.
 *
 * @param today reference date for the "not born in the future" rule; a `Date`
 *   is read in China Standard Time, a string must be `YYYY-MM-DD`. Defaults to now.
 */
export function parseIdNumber(input: string, today: Date | string = new Date()): IdNumberResult {
  const raw = input.trim().toUpperCase();
  if (/^\d{15}$/.test(raw)) {
    return parseLegacy15(raw, today);
  }
  if (!/^\d{17}[\dX]$/.test(raw)) {
    return fail('format', formatMessage(raw));
  }
  const first17 = raw.slice(0, 17);
  const dateError = checkBirthDate(raw.slice(6, 14), today);
  if (dateError !== null) {
    return fail('birth_date', dateError);
  }
  const expected = idCheckChar(first17);
  const actual = raw.slice(17);
  if (actual !== expected) {
    return fail('check_digit', `check digit is ${actual}, expected ${expected}`);
  }
  return { ok: true, value: describe(raw, false) };
}

export function isValidIdNumber(s: string, today?: Date | string): boolean {
  return parseIdNumber(s, today).ok;
}

function parseLegacy15(raw: string, today: Date | string): IdNumberResult {
  // The 15-digit scheme only ever covered births in the 1900s.
  const first17 = raw.slice(0, 6) + '19' + raw.slice(6);
  const dateError = checkBirthDate(first17.slice(6, 14), today);
  if (dateError !== null) {
    return fail('birth_date', dateError);
  }
  return { ok: true, value: describe(first17 + idCheckChar(first17), true) };
}

function describe(idNumber: string, legacy15: boolean): IdNumber {
  const date = idNumber.slice(6, 14);
  const sequence = idNumber.slice(14, 17);
  return {
    idNumber,
    addressCode: idNumber.slice(0, 6),
    birthDate: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
    sequence,
    gender: Number(sequence) % 2 === 1 ? 'male' : 'female',
    checkChar: idNumber.slice(17),
    legacy15,
  };
}

function formatMessage(raw: string): string {
  if (raw.length !== 18 && raw.length !== 15) {
    return `identity number must have 18 characters (or 15 digits for pre-1999 numbers), got ${raw.length}`;
  }
  return raw.length === 15
    ? 'a 15-character identity number must consist of digits only'
    : 'identity number must be 17 digits followed by a digit or X';
}

/** Returns an error message, or null when `yyyymmdd` is an acceptable birth date. */
function checkBirthDate(yyyymmdd: string, today: Date | string): string | null {
  const pretty = `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
  if (!isCalendarDate(yyyymmdd)) {
    return `birth date ${pretty} is not a real calendar date`;
  }
  if (Number(yyyymmdd.slice(0, 4)) < MIN_BIRTH_YEAR) {
    return `birth date ${pretty} is before ${MIN_BIRTH_YEAR}`;
  }
  const todayIso = toIsoDate(today);
  // Fixed-width ISO dates compare correctly as strings.
  if (pretty > todayIso) {
    return `birth date ${pretty} is in the future (today is ${todayIso})`;
  }
  return null;
}

function isCalendarDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function toIsoDate(today: Date | string): string {
  if (typeof today === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) {
      throw new RangeError(`today must be YYYY-MM-DD, got "${today}"`);
    }
    return today;
  }
  return new Date(today.getTime() + CST_OFFSET_MS).toISOString().slice(0, 10);
}

function fail(reason: IdNumberErrorReason, message: string): IdNumberError {
  return { ok: false, code: 'INVALID_ID_NUMBER', reason, message };
}

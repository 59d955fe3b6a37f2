/**
 * Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), without `Date`
 * objects or regexes, for the hot path of synthetic-data generation. Dates are `YYYY-MM-DD` strings
 * for years 1000–9999; a `Date` argument is read in UTC.
 *
 * Day-number conversions follow Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms".
 */

export const MS_PER_DAY = 86_400_000;

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[m - 1]!;
}

/** Day number of a civil date (month 1–12). Days past the month's end roll over linearly. */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Day number of the date `years` calendar years after (before, if negative) y-m-d; 29 Feb → 28 Feb. */
export function addYears(y: number, m: number, d: number, years: number): number {
  const ty = y + years;
  const dim = daysInMonth(ty, m);
  return daysFromCivil(ty, m, Math.min(d, dim));
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

/** `YYYY-MM-DD` for a day number (years 1000–9999). */
export function formatDay(day: number): string {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return y + '-' + pad2(m) + '-' + pad2(d);
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  if (c < 0 || c > 9) throw new RangeError(`not a YYYY-MM-DD date: ${s}`);
  return c;
}

/** Year, month and day of a `YYYY-MM-DD` string, validated. Written into `out` to avoid allocation. */
export function parseCivil(s: string, out: Int32Array): Int32Array {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) {
    throw new RangeError(`not a YYYY-MM-DD date: ${s}`);
  }
  const y = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const m = digit(s, 5) * 10 + digit(s, 6);
  const d = digit(s, 8) * 10 + digit(s, 9);
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) throw new RangeError(`not a calendar date: ${s}`);
  out[0] = y;
  out[1] = m;
  out[2] = d;
  return out;
}

const scratch = new Int32Array(3);

/** Day number of a `YYYY-MM-DD` string (validated). */
export function parseDay(s: string): number {
  parseCivil(s, scratch);
  return daysFromCivil(scratch[0]!, scratch[1]!, scratch[2]!);
}

/** Day number of a `Date`, by its UTC calendar date. */
export function dayOfDate(date: Date): number {
  return Math.floor(date.getTime() / MS_PER_DAY);
}

/** Completed years of a person born y-m-d on the date ay-am-ad (a 29 Feb birthday falls on 1 Mar). */
export function ageOnCivil(y: number, m: number, d: number, ay: number, am: number, ad: number): number {
  return ay - y - (am < m || (am === m && ad < d) ? 1 : 0);
}

/** Completed years on `asOf` (UTC date) of a person born on `birthDate` (`YYYY-MM-DD`). */
export function ageOn(birthDate: string, asOf: Date): number {
  parseCivil(birthDate, scratch);
  return ageOnCivil(
    scratch[0]!,
    scratch[1]!,
    scratch[2]!,
    asOf.getUTCFullYear(),
    asOf.getUTCMonth() + 1,
    asOf.getUTCDate(),
  );
}

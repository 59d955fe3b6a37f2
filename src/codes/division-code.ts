/**
 * GB/T 2260 administrative division codes (行政区划代码), structural checks only.
 *
 * Whether a code actually exists (and what it is called) depends on the edition
 * of GB/T 2260 and on NBS updates, so that lookup belongs to the database layer.
 * This module only answers what the digits themselves say:
 *
 * - 6 digits `PPCCDD`: PP province, CC prefecture-level city,
 *   DD county-level unit. `PP0000` is a province, `PPCC00` a city, anything
 *   else a county.
 * - 9 digits: GB/T 10114 appends a 3-digit town-level (乡级) code to a
 *   county-level code.
 * - 12 digits: the NBS statistical division code (统计用区划代码) appends a
 *   further 3-digit village-level code; only forms ending in `000` (i.e. a
 *   town or higher) are accepted and are normalised to 9 (or 6) digits.
 */

export type DivisionLevel = 'province' | 'city' | 'county' | 'town';

export interface DivisionCode {
  /** Normalised code: 6 digits, or 9 digits for towns. */
  readonly code: string;
  readonly level: DivisionLevel;
  /** `PP0000`. */
  readonly provinceCode: string;
  /** `PPCC00`; null for provinces. */
  readonly cityCode: string | null;
  /** 6-digit county code; null above county level and for towns placed directly under a city. */
  readonly countyCode: string | null;
}

export type DivisionCodeResult =
  | { readonly ok: true; readonly value: DivisionCode }
  | { readonly ok: false; readonly code: 'INVALID_DIVISION_CODE'; readonly message: string };

/**
 * First two digits of every province-level division in GB/T 2260 (including
 * 71 Taiwan, 81 Hong Kong, 82 Macao, which the standard lists).
 */
export const PROVINCE_PREFIXES: readonly string[] = [
  ...['11', '12', '13', '14', '15'],
  ...['21', '22', '23'],
  ...['31', '32', '33', '34', '35', '36', '37'],
  ...['41', '42', '43', '44', '45', '46'],
  ...['50', '51', '52', '53', '54'],
  ...['61', '62', '63', '64', '65'],
  ...['71', '81', '82'],
];

const PROVINCE_PREFIX_SET: ReadonlySet<string> = new Set(PROVINCE_PREFIXES);

export function parseDivisionCode(input: string): DivisionCodeResult {
  const raw = input.trim();
  if (!/^\d+$/.test(raw) || ![6, 9, 12].includes(raw.length)) {
    return fail(`division code must be 6, 9 or 12 digits, got "${raw}"`);
  }
  if (raw.length === 12) {
    return parseNbs12(raw);
  }
  return raw.length === 9 ? parseTown(raw) : parseSixDigit(raw);
}

export function isValidDivisionCode(input: string): boolean {
  return parseDivisionCode(input).ok;
}

/**
 * The code one level up, obtained by zeroing digits; null for provinces.
 *
 * This is the *structural* parent only. Real hierarchies differ: counties of
 * the municipalities (北京 11, 天津 12, 上海 31, 重庆 50) hang directly off the
 * province, and county-level cities administered directly by a province
 * (e.g. 429004 仙桃, 469001 五指山, city part 90) have no real prefecture
 * `PP9000`. The database, which holds the actual division table, decides the
 * real parent; use this for grouping and pre-validation.
 *
 * Throws `RangeError` if `code` is not structurally valid — parse untrusted
 * input with {@link parseDivisionCode} first.
 */
export function structuralParent(code: string): string | null {
  const parsed = parseOrThrow(code);
  switch (parsed.level) {
    case 'province':
      return null;
    case 'city':
      return parsed.provinceCode;
    case 'county':
      return parsed.cityCode;
    case 'town':
      return parsed.code.slice(0, 6);
  }
}

/**
 * Structural ancestors, province first, excluding `code` itself. Carries the
 * same caveat as {@link structuralParent}. Throws `RangeError` on invalid codes.
 */
export function ancestorsOf(code: string): string[] {
  const ancestors: string[] = [];
  for (let parent = structuralParent(code); parent !== null; parent = structuralParent(parent)) {
    ancestors.unshift(parent);
  }
  return ancestors;
}

function parseNbs12(raw: string): DivisionCodeResult {
  if (!raw.endsWith('000')) {
    return fail(`village-level code "${raw}" is not supported; 12-digit codes must end in 000`);
  }
  // NBS zero-pads the levels below the unit: a town ends in 000, a county or higher in 000000.
  return raw.endsWith('000000') ? parseSixDigit(raw.slice(0, 6)) : parseTown(raw.slice(0, 9));
}

function parseTown(raw: string): DivisionCodeResult {
  if (raw.endsWith('000')) {
    return fail(`town code "${raw}" has town part 000`);
  }
  const parent = parseSixDigit(raw.slice(0, 6));
  if (!parent.ok) {
    return fail(`town code "${raw}" has an invalid county part: ${parent.message}`);
  }
  // Towns normally sit under a county, but prefecture-level cities without
  // districts (e.g. 441900 东莞, 442000 中山, 620200 嘉峪关) own towns directly.
  if (parent.value.level === 'province') {
    return fail(`town code "${raw}" cannot sit directly under province ${parent.value.code}`);
  }
  return ok({
    code: raw,
    level: 'town',
    provinceCode: parent.value.provinceCode,
    cityCode: parent.value.cityCode,
    countyCode: parent.value.countyCode,
  });
}

function parseSixDigit(raw: string): DivisionCodeResult {
  const province = raw.slice(0, 2);
  const city = raw.slice(2, 4);
  const county = raw.slice(4, 6);
  if (!PROVINCE_PREFIX_SET.has(province)) {
    return fail(`"${province}" in division code "${raw}" is not a GB/T 2260 province prefix`);
  }
  const provinceCode = province + '0000';
  if (city === '00') {
    if (county !== '00') {
      return fail(`division code "${raw}" has a county part but city part 00`);
    }
    return ok({ code: raw, level: 'province', provinceCode, cityCode: null, countyCode: null });
  }
  const cityCode = province + city + '00';
  if (county === '00') {
    return ok({ code: raw, level: 'city', provinceCode, cityCode, countyCode: null });
  }
  return ok({ code: raw, level: 'county', provinceCode, cityCode, countyCode: raw });
}

function parseOrThrow(code: string): DivisionCode {
  const parsed = parseDivisionCode(code);
  if (!parsed.ok) {
    throw new RangeError(parsed.message);
  }
  return parsed.value;
}

function ok(value: DivisionCode): DivisionCodeResult {
  return { ok: true, value };
}

function fail(message: string): DivisionCodeResult {
  return { ok: false, code: 'INVALID_DIVISION_CODE', message };
}

/**
 * GB 32100-2015 unified social credit code (统一社会信用代码, USCC), with the
 * GB 11714-1997 organisation code (组织机构代码) embedded at positions 9–17.
 *
 * Layout (GB 32100-2015, 代码结构):
 *   pos 1      registration department code (登记管理部门代码)
 *   pos 2      organisation category code (机构类别代码)
 *   pos 3–8    registration authority's division code (GB/T 2260; central
 *              registrations use 100000, so it is not checked against provinces)
 *   pos 9–17   organisation code: 8-character body + GB 11714 check character
 *   pos 18     check character over positions 1–17
 */

/** GB 32100-2015 character set: digits and upper-case letters except I, O, S, V, Z; index = value. */
export const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export interface UsccCategoryEntry {
  readonly code: string;
  readonly name: string;
}

export interface UsccRegistrationDeptEntry {
  readonly code: string;
  readonly name: string;
  readonly categories: readonly UsccCategoryEntry[];
}

/**
 * Registration department codes and, per department, organisation category
 * codes — GB 32100-2015 Table 1 (登记管理部门代码和机构类别代码).
 *
 * `A` (中央军委改革和编制办公室, the military reform office created in 2016)
 * and `N` (农业, rural collective economic organisations registered from 2018)
 * were assigned after the 2015 publication; codes with them are issued in
 * practice, so they are accepted. Any department/category pair not listed
 * here is rejected; extend this table if a new assignment is published.
 */
export const USCC_REGISTRATION_DEPTS = [
  {
    code: '1',
    name: '机构编制',
    categories: [
      { code: '1', name: '机关' },
      { code: '2', name: '事业单位' },
      { code: '3', name: '中央编办直接管理机构编制的群众团体' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '2',
    name: '外交',
    categories: [
      { code: '1', name: '外国常驻新闻机构' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '3',
    name: '司法行政',
    categories: [
      { code: '1', name: '律师执业机构' },
      { code: '2', name: '公证处' },
      { code: '3', name: '基层法律服务所' },
      { code: '4', name: '司法鉴定机构' },
      { code: '5', name: '仲裁委员会' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '4',
    name: '文化',
    categories: [
      { code: '1', name: '外国在华文化中心' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '5',
    name: '民政',
    categories: [
      { code: '1', name: '社会团体' },
      { code: '2', name: '民办非企业单位' },
      { code: '3', name: '基金会' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '6',
    name: '旅游',
    categories: [
      { code: '1', name: '外国旅游部门常驻代表机构' },
      { code: '2', name: '港澳台地区旅游部门常驻内地（大陆）代表机构' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '7',
    name: '宗教',
    categories: [
      { code: '1', name: '宗教活动场所' },
      { code: '2', name: '宗教院校' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '8',
    name: '工会',
    categories: [
      { code: '1', name: '基层工会' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: '9',
    name: '工商',
    categories: [
      { code: '1', name: '企业' },
      { code: '2', name: '个体工商户' },
      { code: '3', name: '农民专业合作社' },
    ],
  },
  {
    code: 'A',
    name: '中央军委改革和编制办公室',
    categories: [
      { code: '1', name: '军队事业单位' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: 'N',
    name: '农业',
    categories: [
      { code: '1', name: '组级集体经济组织' },
      { code: '2', name: '村级集体经济组织' },
      { code: '3', name: '乡镇级集体经济组织' },
      { code: '9', name: '其他' },
    ],
  },
  {
    code: 'Y',
    name: '其他',
    categories: [{ code: '1', name: '其他' }],
  },
] as const satisfies readonly UsccRegistrationDeptEntry[];

export type UsccRegistrationDeptCode = (typeof USCC_REGISTRATION_DEPTS)[number]['code'];

export interface Uscc {
  /** Normalised: trimmed, upper case. */
  readonly uscc: string;
  readonly registrationDept: UsccRegistrationDeptCode;
  readonly registrationDeptName: string;
  readonly category: string;
  readonly categoryName: string;
  /** Positions 3–8; not checked for existence. */
  readonly divisionCode: string;
  /** Positions 9–17, the GB 11714 organisation code including its check character. */
  readonly orgCode: string;
  readonly orgCodeValid: boolean;
  /**
   * True when the final check character is right but the embedded organisation
   * code's own check fails: codes issued during the early pilot did not always
   * carry a GB 11714-valid organisation code, and they remain legally valid.
   */
  readonly pilotException: boolean;
}

export type UsccErrorReason = 'format' | 'check_char' | 'registration_dept' | 'category';

export interface UsccError {
  readonly ok: false;
  readonly code: 'INVALID_USCC';
  readonly reason: UsccErrorReason;
  readonly message: string;
}

export type UsccResult = { readonly ok: true; readonly value: Uscc } | UsccError;

/** GB 32100-2015 check-character weights: W_i = 3^(i-1) mod 31. */
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
/** GB 11714-1997 weights for the 8 body characters. */
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;
/** GB 11714-1997 body characters; a letter's value is 10 + its position in A–Z. */
const ORG_BODY_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

const USCC_PATTERN = new RegExp(`^[${USCC_ALPHABET}]*$`);

/** Computes the GB 11714-1997 check character for an 8-character organisation-code body. */
export function orgCodeCheckChar(body8: string): string {
  if (!/^[0-9A-Z]{8}$/.test(body8)) {
    throw new RangeError(`orgCodeCheckChar expects 8 digits or upper-case letters, got "${body8}"`);
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    sum += ORG_BODY_CHARS.indexOf(body8[i]!) * ORG_WEIGHTS[i]!;
  }
  const c = 11 - (sum % 11);
  // GB 11714-1997: a result of 10 is written X and 11 is written 0.
  if (c === 10) return 'X';
  return c === 11 ? '0' : String(c);
}

/** Computes the GB 32100-2015 check character (position 18) for the first 17 characters. */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17 || !USCC_PATTERN.test(first17)) {
    throw new RangeError(`usccCheckChar expects 17 characters from the USCC alphabet, got "${first17}"`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += USCC_ALPHABET.indexOf(first17[i]!) * USCC_WEIGHTS[i]!;
  }
  // GB 32100-2015: C18 = 31 - (sum mod 31), with 31 mapped to 0.
  const c = 31 - (sum % 31);
  return USCC_ALPHABET[c === 31 ? 0 : c]!;
}

/**
 * Builds a valid code with both check characters, for the synthetic-data
 * generator. Throws `RangeError` on bad arguments (programming errors).
 */
export function buildUscc(dept: string, category: string, divisionCode: string, orgBody8: string): string {
  const deptEntry = findDept(dept);
  if (deptEntry === undefined) {
    throw new RangeError(`unknown registration department "${dept}"`);
  }
  if (findCategory(deptEntry, category) === undefined) {
    throw new RangeError(`unknown category "${category}" for registration department "${dept}"`);
  }
  if (!/^\d{6}$/.test(divisionCode)) {
    throw new RangeError(`divisionCode must be 6 digits, got "${divisionCode}"`);
  }
  if (orgBody8.length !== 8 || !USCC_PATTERN.test(orgBody8)) {
    throw new RangeError(`orgBody8 must be 8 characters from the USCC alphabet, got "${orgBody8}"`);
  }
  const first17 = dept + category + divisionCode + orgBody8 + orgCodeCheckChar(orgBody8);
  return first17 + usccCheckChar(first17);
}

export function parseUscc(input: string): UsccResult {
  const uscc = input.trim().toUpperCase();
  const formatError = checkFormat(uscc);
  if (formatError !== null) {
    return fail('format', formatError);
  }
  // The final check comes before the code-list checks so that a typo anywhere
  // is reported as such rather than as an unknown department or category.
  const expected = usccCheckChar(uscc.slice(0, 17));
  const actual = uscc.slice(17);
  if (actual !== expected) {
    return fail('check_char', `check character is ${actual}, expected ${expected}`);
  }
  const dept = findDept(uscc.slice(0, 1));
  if (dept === undefined) {
    return fail(
      'registration_dept',
      `registration department code ${uscc.slice(0, 1)} is not defined in GB 32100-2015 Table 1`,
    );
  }
  const category = findCategory(dept, uscc.slice(1, 2));
  if (category === undefined) {
    return fail(
      'category',
      `category code ${uscc.slice(1, 2)} is not defined for registration department ${dept.code} (${dept.name})`,
    );
  }
  const orgCode = uscc.slice(8, 17);
  const orgCodeValid = orgCodeCheckChar(orgCode.slice(0, 8)) === orgCode.slice(8);
  return {
    ok: true,
    value: {
      uscc,
      registrationDept: dept.code,
      registrationDeptName: dept.name,
      category: category.code,
      categoryName: category.name,
      divisionCode: uscc.slice(2, 8),
      orgCode,
      orgCodeValid,
      pilotException: !orgCodeValid,
    },
  };
}

export function isValidUscc(input: string): boolean {
  return parseUscc(input).ok;
}

function checkFormat(uscc: string): string | null {
  if (uscc.length !== 18) {
    return `unified social credit code must have 18 characters, got ${uscc.length}`;
  }
  for (let i = 0; i < 18; i++) {
    const ch = uscc[i]!;
    if (!USCC_ALPHABET.includes(ch)) {
      return `character ${JSON.stringify(ch)} at position ${i + 1} is not allowed (digits and upper-case letters except I, O, S, V, Z)`;
    }
  }
  if (!/^\d{6}$/.test(uscc.slice(2, 8))) {
    return `positions 3-8 (registration division code) must be digits, got ${uscc.slice(2, 8)}`;
  }
  return null;
}

type DeptEntry = (typeof USCC_REGISTRATION_DEPTS)[number];

function findDept(code: string): DeptEntry | undefined {
  return USCC_REGISTRATION_DEPTS.find((d) => d.code === code);
}

function findCategory(dept: DeptEntry, code: string): UsccCategoryEntry | undefined {
  const categories: readonly UsccCategoryEntry[] = dept.categories;
  return categories.find((c) => c.code === code);
}

function fail(reason: UsccErrorReason, message: string): UsccError {
  return { ok: false, code: 'INVALID_USCC', reason, message };
}

/**
 * Demographic attribute samplers: age, sex, birth date, ethnic group, marital status, education and
 * mobile phone number. Every table is turned into a weighted picker once, at module load; the
 * samplers themselves do no table building, no regexes and (apart from the returned strings) no
 * allocation.
 *
 * Codes: sex GB/T 2261.1 ('1' male, '2' female); ethnic group GB/T 3304 (two digits); marital
 * status GB/T 2261.2; education GB/T 4658.
 */

import { addYears, formatDay } from './calendar.ts';
import { type Rng, type WeightedPicker, weightedPicker } from './rng.ts';

/** GB/T 2261.1: '1' male, '2' female. */
export type SexCode = '1' | '2';
export const MALE: SexCode = '1';
export const FEMALE: SexCode = '2';

/** Oldest age the samplers produce (the 100+ band spans 100–104). */
export const MAX_AGE = 104;

// ---------------------------------------------------------------------------------------------
// Age and sex
// ---------------------------------------------------------------------------------------------

/**
 * Five-year age bands: share of the total population (%) and males per 100 females.
 * Source: Seventh National Population Census 2020 (第七次全国人口普查), approximate shares.
 * 0–14: 17.95 %, 15–59: 63.35 %, 60+: 18.70 %, 65+: 13.50 %; overall sex ratio ≈ 105.
 * (The census recorded a sex ratio at birth of about 111 in 2020; the young bands reflect that.)
 */
export const AGE_BANDS: readonly {
  readonly from: number;
  readonly to: number;
  readonly share: number;
  readonly sexRatio: number;
}[] = [
  { from: 0, to: 4, share: 5.52, sexRatio: 110.6 },
  { from: 5, to: 9, share: 6.39, sexRatio: 113.6 },
  { from: 10, to: 14, share: 6.04, sexRatio: 116.0 },
  { from: 15, to: 19, share: 5.15, sexRatio: 115.3 },
  { from: 20, to: 24, share: 5.31, sexRatio: 111.5 },
  { from: 25, to: 29, share: 6.51, sexRatio: 107.5 },
  { from: 30, to: 34, share: 8.79, sexRatio: 105.9 },
  { from: 35, to: 39, share: 7.01, sexRatio: 104.4 },
  { from: 40, to: 44, share: 6.61, sexRatio: 104.3 },
  { from: 45, to: 49, share: 8.09, sexRatio: 103.2 },
  { from: 50, to: 54, share: 8.58, sexRatio: 102.2 },
  { from: 55, to: 59, share: 7.18, sexRatio: 101.6 },
  { from: 60, to: 64, share: 5.2, sexRatio: 99.9 },
  { from: 65, to: 69, share: 5.24, sexRatio: 97.7 },
  { from: 70, to: 74, share: 3.51, sexRatio: 95.5 },
  { from: 75, to: 79, share: 2.21, sexRatio: 91.6 },
  { from: 80, to: 84, share: 1.43, sexRatio: 82.7 },
  { from: 85, to: 89, share: 0.76, sexRatio: 70.5 },
  { from: 90, to: 94, share: 0.26, sexRatio: 55.9 },
  { from: 95, to: 99, share: 0.06, sexRatio: 43.6 },
  { from: 100, to: MAX_AGE, share: 0.0085, sexRatio: 33.0 },
];

/** Population weight of each single year of age 0..MAX_AGE (band share spread evenly). */
export const AGE_YEAR_WEIGHTS: Float64Array = (() => {
  const w = new Float64Array(MAX_AGE + 1);
  for (const b of AGE_BANDS) {
    const per = b.share / (b.to - b.from + 1);
    for (let a = b.from; a <= b.to; a++) w[a] = per;
  }
  return w;
})();

/** Probability of being male at each single year of age 0..MAX_AGE. */
export const MALE_SHARE_BY_AGE: Float64Array = (() => {
  const p = new Float64Array(MAX_AGE + 1);
  for (const b of AGE_BANDS) {
    const share = b.sexRatio / (100 + b.sexRatio);
    for (let a = b.from; a <= b.to; a++) p[a] = share;
  }
  return p;
})();

const pickAgeYear = weightedPicker(Array.from(AGE_YEAR_WEIGHTS));

function clampAge(age: number): number {
  return Math.min(Math.max(age, 0), MAX_AGE);
}

/** Age in completed years, 0..MAX_AGE, following the 2020 census pyramid. */
export function sampleAge(rng: Rng): number {
  return pickAgeYear(rng);
}

/** Sex for a person of the given age, following the census sex ratio of that age band. */
export function sampleSex(rng: Rng, age: number): SexCode {
  return rng.nextFloat() < MALE_SHARE_BY_AGE[clampAge(age)]! ? MALE : FEMALE;
}

/**
 * A birth date (`YYYY-MM-DD`) for someone exactly `age` completed years old on `asOf` (UTC date),
 * uniform over the 365/366 possible days.
 */
export function birthDateForAge(rng: Rng, age: number, asOf: Date): string {
  const ay = asOf.getUTCFullYear();
  const am = asOf.getUTCMonth() + 1;
  const ad = asOf.getUTCDate();
  const latest = addYears(ay, am, ad, -age);
  const earliest = addYears(ay, am, ad, -age - 1) + 1;
  return formatDay(rng.int(earliest, latest));
}

/** A birth date (`YYYY-MM-DD`, never after `asOf`) for a person drawn from the census age pyramid. */
export function birthDate(rng: Rng, asOf: Date): string {
  return birthDateForAge(rng, pickAgeYear(rng), asOf);
}

// ---------------------------------------------------------------------------------------------
// Ethnic group (GB/T 3304)
// ---------------------------------------------------------------------------------------------

/** GB/T 3304 two-digit code, '01'..'56'. */
export type EthnicityCode = string;

/** GB/T 3304 code → name, all 56 groups. */
// biome-ignore format: compact data table
export const ETHNIC_GROUP_NAMES: Readonly<Record<EthnicityCode, string>> = {
  '01': '汉族', '02': '蒙古族', '03': '回族', '04': '藏族', '05': '维吾尔族', '06': '苗族', '07': '彝族',
  '08': '壮族', '09': '布依族', '10': '朝鲜族', '11': '满族', '12': '侗族', '13': '瑶族', '14': '白族',
  '15': '土家族', '16': '哈尼族', '17': '哈萨克族', '18': '傣族', '19': '黎族', '20': '傈僳族', '21': '佤族',
  '22': '畲族', '23': '高山族', '24': '拉祜族', '25': '水族', '26': '东乡族', '27': '纳西族', '28': '景颇族',
  '29': '柯尔克孜族', '30': '土族', '31': '达斡尔族', '32': '仫佬族', '33': '羌族', '34': '布朗族',
  '35': '撒拉族', '36': '毛南族', '37': '仡佬族', '38': '锡伯族', '39': '阿昌族', '40': '普米族',
  '41': '塔吉克族', '42': '怒族', '43': '乌孜别克族', '44': '俄罗斯族', '45': '鄂温克族', '46': '德昂族',
  '47': '保安族', '48': '裕固族', '49': '京族', '50': '塔塔尔族', '51': '独龙族', '52': '鄂伦春族',
  '53': '赫哲族', '54': '门巴族', '55': '珞巴族', '56': '基诺族',
};

/**
 * National population by ethnic group, thousands. Source: Seventh National Population Census 2020,
 * approximate (汉族 ≈ 91.1 %, minorities ≈ 8.9 %; persons of undetermined group left out).
 */
// biome-ignore format: compact data table
export const ETHNIC_POPULATION_2020: Readonly<Record<EthnicityCode, number>> = {
  '01': 1_286_311, '08': 19_569, '05': 11_775, '03': 11_378, '06': 11_068, '11': 10_423, '07': 9_830,
  '15': 9_588, '04': 7_061, '02': 6_290, '09': 3_577, '12': 3_496, '13': 3_309, '14': 2_092, '16': 1_733,
  '10': 1_702, '19': 1_602, '17': 1_563, '18': 1_330, '26': 775, '20': 763, '22': 746, '37': 678, '24': 500,
  '25': 496, '21': 431, '27': 324, '33': 313, '30': 282, '32': 277, '29': 204, '38': 192, '35': 165,
  '28': 160, '31': 132, '34': 127, '36': 124, '41': 51, '40': 45, '39': 44, '42': 37, '45': 35, '49': 33,
  '56': 26, '47': 24, '46': 22, '44': 16, '48': 15, '43': 13, '54': 11, '52': 9.2, '51': 7.3, '53': 5.4,
  '55': 4.2, '50': 3.5, '23': 3.5,
};

/**
 * Per-province composition (%), by the first two digits of the GB/T 2260 code. Listed groups get
 * their share; `other` (%) is spread over the remaining minorities in national proportions; 汉族 gets
 * the rest. Provinces not listed: 汉族 99.2 %, minorities 0.8 % in national proportions.
 * Source: provincial bulletins of the Seventh National Population Census 2020, approximate.
 */
// biome-ignore format: compact data table
export const PROVINCE_ETHNIC_SHARES: Readonly<
  Record<string, { readonly shares: Readonly<Record<EthnicityCode, number>>; readonly other: number }>
> = {
  '11': { shares: { '11': 1.2, '03': 1.1, '02': 0.4 }, other: 1.5 }, // 北京
  '12': { shares: { '03': 1.0, '11': 0.7, '02': 0.15 }, other: 0.8 }, // 天津
  '13': { shares: { '11': 2.7, '03': 0.8, '02': 0.25 }, other: 0.25 }, // 河北
  '14': { shares: { '03': 0.2 }, other: 0.3 }, // 山西
  '15': { shares: { '02': 17.66, '11': 1.9, '03': 0.8, '31': 0.3, '45': 0.1, '10': 0.07, '52': 0.015 }, other: 0.4 }, // 内蒙古
  '21': { shares: { '11': 12.6, '02': 1.5, '03': 0.6, '10': 0.5, '38': 0.3 }, other: 0.3 }, // 辽宁
  '22': { shares: { '10': 3.1, '11': 2.9, '02': 0.6, '03': 0.4 }, other: 0.2 }, // 吉林
  '23': { shares: { '11': 2.6, '10': 0.8, '02': 0.4, '03': 0.3, '31': 0.1, '52': 0.01, '53': 0.01, '45': 0.01 }, other: 0.2 }, // 黑龙江
  '31': { shares: { '03': 0.3 }, other: 1.3 }, // 上海
  '32': { shares: { '03': 0.2 }, other: 0.5 }, // 江苏
  '33': { shares: { '22': 0.3 }, other: 1.6 }, // 浙江
  '34': { shares: { '03': 0.5 }, other: 0.2 }, // 安徽
  '35': { shares: { '22': 1.0 }, other: 0.9 }, // 福建
  '36': { shares: { '22': 0.2 }, other: 0.2 }, // 江西
  '37': { shares: { '03': 0.6 }, other: 0.3 }, // 山东
  '41': { shares: { '03': 1.0 }, other: 0.2 }, // 河南
  '42': { shares: { '15': 3.6, '06': 0.4, '03': 0.1 }, other: 0.4 }, // 湖北
  '43': { shares: { '15': 4.0, '06': 3.3, '12': 1.3, '13': 1.1, '14': 0.2, '03': 0.15 }, other: 0.2 }, // 湖南
  '44': { shares: { '08': 1.3, '15': 0.4, '06': 0.4, '13': 0.3, '12': 0.3, '09': 0.15 }, other: 0.35 }, // 广东
  '45': { // 广西
    shares: { '08': 31.4, '13': 3.2, '06': 1.1, '12': 0.7, '32': 0.4, '36': 0.15, '03': 0.07, '49': 0.06, '25': 0.03 },
    other: 0.15,
  },
  '46': { shares: { '19': 14.7, '06': 0.8, '08': 0.2, '03': 0.1 }, other: 0.3 }, // 海南
  '50': { shares: { '15': 4.4, '06': 1.6 }, other: 0.3 }, // 重庆
  '51': { shares: { '07': 3.4, '04': 1.9, '33': 0.4, '06': 0.2, '03': 0.1, '15': 0.1 }, other: 0.2 }, // 四川
  '52': { // 贵州
    shares: {
      '06': 11.2, '09': 9.0, '12': 4.4, '15': 4.2, '07': 2.6, '37': 1.7, '25': 1.2, '03': 0.5, '14': 0.5,
      '08': 0.18, '13': 0.13, '22': 0.1, '36': 0.08, '02': 0.08,
    },
    other: 0.6,
  },
  '53': { // 云南
    shares: {
      '07': 10.7, '16': 3.5, '14': 3.4, '18': 2.7, '08': 2.6, '06': 2.7, '03': 1.5, '20': 1.5, '24': 1.0,
      '21': 0.9, '27': 0.65, '13': 0.5, '04': 0.3, '28': 0.3, '34': 0.25, '09': 0.13, '40': 0.09, '39': 0.09,
      '42': 0.07, '56': 0.05, '02': 0.05, '46': 0.05, '51': 0.015,
    },
    other: 0.2,
  },
  '54': { shares: { '04': 86.0, '03': 0.3, '54': 0.3, '55': 0.1 }, other: 1.1 }, // 西藏
  '61': { shares: { '03': 0.4 }, other: 0.2 }, // 陕西
  '62': { // 甘肃
    shares: { '03': 5.1, '26': 2.6, '04': 2.0, '30': 0.12, '47': 0.08, '02': 0.08, '48': 0.06, '35': 0.05, '11': 0.05 },
    other: 0.2,
  },
  '63': { shares: { '04': 25.0, '03': 14.8, '30': 3.6, '35': 1.9, '02': 1.7 }, other: 0.5 }, // 青海
  '64': { shares: { '03': 35.0, '11': 0.3 }, other: 0.4 }, // 宁夏
  '65': { // 新疆
    shares: {
      '05': 44.96, '17': 6.0, '03': 4.3, '29': 0.8, '02': 0.7, '26': 0.27, '41': 0.2, '38': 0.17, '11': 0.1,
      '43': 0.05, '44': 0.05, '50': 0.015,
    },
    other: 0.3,
  },
};

const ETHNIC_CODES: readonly EthnicityCode[] = Object.keys(ETHNIC_GROUP_NAMES).sort();
const HAN = '01';
const DEFAULT_PROVINCE_MINORITY_SHARE = 0.8;

/** Per-code weights (%) for a province spec; exported for tests and reports. */
export function provinceEthnicWeights(spec: {
  readonly shares: Readonly<Record<EthnicityCode, number>>;
  readonly other: number;
}): Map<EthnicityCode, number> {
  const weights = new Map<EthnicityCode, number>();
  let listed = 0;
  for (const code of ETHNIC_CODES) {
    const s = spec.shares[code];
    if (s !== undefined) {
      weights.set(code, s);
      listed += s;
    }
  }
  let restPopulation = 0;
  for (const code of ETHNIC_CODES) {
    if (code !== HAN && !weights.has(code)) restPopulation += ETHNIC_POPULATION_2020[code] ?? 0;
  }
  for (const code of ETHNIC_CODES) {
    if (code === HAN || weights.has(code)) continue;
    weights.set(code, (spec.other * (ETHNIC_POPULATION_2020[code] ?? 0)) / restPopulation);
  }
  const han = 100 - listed - spec.other;
  if (han < 0) throw new RangeError('province ethnic shares exceed 100 %');
  weights.set(HAN, han + (weights.get(HAN) ?? 0));
  return weights;
}

function pickerFromWeights(weights: ReadonlyMap<EthnicityCode, number>): (rng: Rng) => EthnicityCode {
  const codes: EthnicityCode[] = [];
  const w: number[] = [];
  for (const [code, weight] of weights) {
    if (weight > 0) {
      codes.push(code);
      w.push(weight);
    }
  }
  const pick = weightedPicker(w);
  return (rng: Rng) => codes[pick(rng)]!;
}

/** National ethnic composition (汉族 ≈ 91.1 %). */
export const sampleEthnicity: (rng: Rng) => EthnicityCode = pickerFromWeights(
  new Map(ETHNIC_CODES.map((c) => [c, ETHNIC_POPULATION_2020[c] ?? 0])),
);

const defaultProvincePicker = pickerFromWeights(
  provinceEthnicWeights({ shares: {}, other: DEFAULT_PROVINCE_MINORITY_SHARE }),
);

const provincePickers = new Map<string, (rng: Rng) => EthnicityCode>(
  Object.entries(PROVINCE_ETHNIC_SHARES).map(([p, spec]) => [
    p,
    pickerFromWeights(provinceEthnicWeights(spec)),
  ]),
);

/**
 * The ethnic-group sampler for a province, precomputed at load. `divisionCode` may be any GB/T 2260
 * or NBS code (province, city, county, town); its first two digits select the province. Resolve it
 * once per county, not once per person. Unlisted provinces (and unknown codes) get a Han-majority
 * default (99.2 %).
 */
export function ethnicityPickerFor(divisionCode: string): (rng: Rng) => EthnicityCode {
  return provincePickers.get(divisionCode.slice(0, 2)) ?? defaultProvincePicker;
}

// ---------------------------------------------------------------------------------------------
// Marital status (GB/T 2261.2) by age and sex
// ---------------------------------------------------------------------------------------------

/** GB/T 2261.2: 10 未婚 (never married), 20 已婚 (married), 30 丧偶 (widowed), 40 离婚 (divorced). */
export type MaritalStatusCode = '10' | '20' | '30' | '40';
const MARITAL_CODES: readonly MaritalStatusCode[] = ['10', '20', '30', '40'];

/** Table row: [from age, % 未婚, 已婚, 丧偶, 离婚]. */
type MaritalRow = readonly [number, number, number, number, number];

/**
 * Marital status by age band (from, % 未婚/已婚/丧偶/离婚), males then females. Legal marriage age is
 * 22 for men and 20 for women. Approximates the Seventh National Population Census 2020 tables.
 */
const MARITAL_BANDS: Readonly<Record<SexCode, readonly MaritalRow[]>> = {
  '1': [
    [0, 100, 0, 0, 0],
    [22, 80, 19.5, 0, 0.5],
    [25, 52, 46, 0.1, 1.9],
    [30, 22, 74, 0.2, 3.8],
    [35, 10, 84.5, 0.3, 5.2],
    [40, 6, 88, 0.6, 5.4],
    [45, 4.5, 89, 1.2, 5.3],
    [50, 3.5, 89.5, 2.2, 4.8],
    [55, 3, 89, 3.8, 4.2],
    [60, 3, 87.5, 6.5, 3],
    [65, 2.8, 84, 11, 2.2],
    [70, 2.5, 78, 18, 1.5],
    [75, 2.2, 70, 26.5, 1.3],
    [80, 2, 58, 39, 1],
    [85, 1.5, 40, 57.5, 1],
  ],
  '2': [
    [0, 100, 0, 0, 0],
    [20, 70, 29, 0.1, 0.9],
    [25, 33, 64, 0.1, 2.9],
    [30, 10, 85, 0.3, 4.7],
    [35, 4, 90, 0.6, 5.4],
    [40, 2, 91, 1.3, 5.7],
    [45, 1.2, 90.5, 2.5, 5.8],
    [50, 0.8, 89, 5, 5.2],
    [55, 0.6, 86.5, 8.5, 4.4],
    [60, 0.5, 82, 14, 3.5],
    [65, 0.4, 74, 23, 2.6],
    [70, 0.4, 62, 36, 1.6],
    [75, 0.4, 47, 51.5, 1.1],
    [80, 0.3, 32, 67, 0.7],
    [85, 0.3, 15, 84.2, 0.5],
  ],
};

/** For each sex, a picker per single year of age 0..MAX_AGE (shared between years of a band). */
function byAgeTable<T>(
  bands: readonly (readonly number[])[],
  build: (row: readonly number[]) => T,
): readonly T[] {
  const out: T[] = [];
  let band = 0;
  let current = build(bands[0]!);
  for (let age = 0; age <= MAX_AGE; age++) {
    const next = bands[band + 1];
    if (next !== undefined && age >= next[0]!) {
      band++;
      current = build(next);
    }
    out.push(current);
  }
  return out;
}

const maritalPickers: Readonly<Record<SexCode, readonly WeightedPicker[]>> = {
  '1': byAgeTable(MARITAL_BANDS['1'], (row) => weightedPicker(row.slice(1))),
  '2': byAgeTable(MARITAL_BANDS['2'], (row) => weightedPicker(row.slice(1))),
};

/** Marital status for a person of this age and sex. Under the legal marriage age: always '10'. */
export function sampleMaritalStatus(rng: Rng, age: number, sex: SexCode): MaritalStatusCode {
  return MARITAL_CODES[maritalPickers[sex][clampAge(age)]!(rng)]!;
}

// ---------------------------------------------------------------------------------------------
// Education (GB/T 4658) by age
// ---------------------------------------------------------------------------------------------

/**
 * GB/T 4658 highest level attained or attending: 10 研究生, 20 大学本科, 30 大学专科, 60 普通高中,
 * 70 初中, 80 小学, 90 其他 (here: no formal schooling).
 */
export type EducationCode = '10' | '20' | '30' | '60' | '70' | '80' | '90';
const EDUCATION_CODES: readonly EducationCode[] = ['10', '20', '30', '60', '70', '80', '90'];

/** Table row: [from age, % 10, 20, 30, 60, 70, 80, 90]. */
type EducationRow = readonly [number, number, number, number, number, number, number, number];

/**
 * Education by age band (from, % for 10/20/30/60/70/80/90). Under 6: none (null). Ages 6–11 are in
 * primary school, 12–14 in junior middle school. Younger cohorts are far better educated; roughly
 * follows the Seventh National Population Census 2020 (15.5 % of the population with 大专 or above).
 */
const EDUCATION_BANDS: readonly EducationRow[] = [
  [0, 0, 0, 0, 0, 0, 0, 1], // placeholder below 6, never used (null)
  [6, 0, 0, 0, 0, 0, 100, 0],
  [12, 0, 0, 0, 0, 100, 0, 0],
  [15, 0, 0, 0, 75, 25, 0, 0],
  [18, 0, 15, 15, 45, 23, 2, 0],
  [20, 0.8, 24, 22, 22, 28, 2.7, 0.5],
  [25, 3.5, 21, 20, 16, 34, 5, 0.5],
  [30, 2.8, 16, 17, 16, 41, 6.5, 0.7],
  [35, 1.8, 11, 12, 17, 47, 10, 1.2],
  [40, 1, 7, 9, 16, 50, 15.5, 1.5],
  [45, 0.6, 4.5, 6.5, 17, 50, 19.5, 1.9],
  [50, 0.4, 3, 5, 17, 47, 25, 2.6],
  [55, 0.3, 2.5, 4, 18, 42, 29, 4.2],
  [60, 0.2, 2, 3, 14, 36, 38, 6.8],
  [65, 0.2, 2, 3, 10, 28, 45, 11.8],
  [70, 0.2, 2, 2.5, 8, 18, 47, 22.3],
  [80, 0.1, 1.5, 1.5, 5, 10, 40, 41.9],
];
const EDUCATION_MIN_AGE = 6;

const educationPickers = byAgeTable(EDUCATION_BANDS, (row) => weightedPicker(row.slice(1)));

/** Education for a person of this age; null under 6. */
export function sampleEducation(rng: Rng, age: number): EducationCode | null {
  if (age < EDUCATION_MIN_AGE) return null;
  return EDUCATION_CODES[educationPickers[clampAge(age)]!(rng)]!;
}

// ---------------------------------------------------------------------------------------------
// Mobile phone
// ---------------------------------------------------------------------------------------------

/**
 * Mainland mobile number prefixes (号段) with rough weights: China Mobile 134–139, 147, 150–152,
 * 157–159, 172, 178, 182–184, 187, 188, 195, 197, 198; China Unicom 130–132, 145, 155, 156, 166, 175,
 * 176, 185, 186, 196; China Telecom 133, 149, 153, 173, 177, 180, 181, 189, 190, 191, 193, 199;
 * China Broadnet 192. The long-established segments carry most subscribers.
 */
// biome-ignore format: compact data table
export const MOBILE_PREFIXES: readonly (readonly [string, number])[] = [
  ['134', 3], ['135', 5], ['136', 5], ['137', 5], ['138', 6], ['139', 6], ['147', 1], ['150', 4], ['151', 4],
  ['152', 4], ['157', 3], ['158', 4], ['159', 4], ['172', 0.5], ['178', 2], ['182', 3], ['183', 3],
  ['184', 1], ['187', 4], ['188', 3], ['195', 0.5], ['197', 0.3], ['198', 1.5], ['130', 3], ['131', 3],
  ['132', 3], ['145', 0.8], ['155', 3], ['156', 3], ['166', 1.5], ['175', 1], ['176', 1.5], ['185', 3],
  ['186', 3.5], ['196', 0.3], ['133', 3], ['149', 0.5], ['153', 3], ['173', 1], ['177', 2], ['180', 2.5],
  ['181', 2.5], ['189', 3.5], ['190', 0.3], ['191', 0.8], ['193', 0.5], ['199', 1.5], ['192', 0.3],
];

const MOBILE_PREFIX_CODES = MOBILE_PREFIXES.map((p) => p[0]);
const pickMobilePrefix = weightedPicker(MOBILE_PREFIXES.map((p) => p[1]));

/** Share of persons without a registered mobile number. */
export const NO_PHONE_SHARE = 0.08;

/** An 11-digit mainland mobile number (`1[3-9]x` + 8 digits), or null (~8 %: no phone). */
export function sampleMobilePhone(rng: Rng): string | null {
  if (rng.chance(NO_PHONE_SHARE)) return null;
  return mobileNumber(rng);
}

/** An 11-digit mainland mobile number, never null. */
export function mobileNumber(rng: Rng): string {
  const prefix = MOBILE_PREFIX_CODES[pickMobilePrefix(rng)]!;
  const tail = rng.int(0, 99_999_999);
  // 10^8 + tail has 9 digits; dropping the leading '1' zero-pads the tail to 8.
  return prefix + String(100_000_000 + tail).slice(1);
}

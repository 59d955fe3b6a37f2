/**
 * Synthetic legal entities (`npm run generate -- --entities N`): entities across the real divisions,
 * spread like the persons already generated, with valid USCCs (GB 32100, including a few early pilot
 * codes), legal representatives and shareholders drawn from those persons, a shareholding graph with
 * corporate groups, deep chains and a few cycles, branches and subordinate units, former names,
 * qualifications and online shops — and injected defects listed exactly in the manifest.
 *
 * Everything is written through the registry's write path (src/registries/legal-entity/entity-writes.ts),
 * in batches, so history and the change log are written as for any other registration.
 *
 * Layout of a run:
 * 1. Counties (and cities without counties) are weighted by the adult persons living there; each gets a
 *    fixed quota of entities (largest remainders). Counties are generated in code order; each reads its
 *    pool of adult persons once (representatives, shareholders, shop operators).
 * 2. Each entity gets a legal form, a name, capital, dates, status, industry, an address and a point
 *    inside the county's finest boundary, and a cap table: persons, "other" holders, and slots to be
 *    filled by another entity.
 * 3. After all counties, the entity slots are filled: first deep chains (each link a majority holding),
 *    then cycles, then the rest at random (mostly within the province).
 * 4. Branches of larger companies are registered in other counties.
 */

import type { ASSET_BANDS } from '../../../schema/legal-entity.ts';
import { buildIdNumber } from '../../codes/id-number.ts';
import { buildUscc, USCC_ALPHABET, usccCheckChar } from '../../codes/uscc.ts';
import { codecFor } from '../../crypto/at-rest.ts';
import type { Database } from '../../db/index.ts';
import type { LegalForm } from '../../registries/legal-entity/entity-store.ts';
import {
  type EntityInput,
  type FormerNameInput,
  insertEntities,
  insertFormerNames,
  insertOnlineShops,
  insertQualifications,
  insertShareholdings,
  type OnlineShopInput,
  type QualificationInput,
  type ShareholdingInput,
} from '../../registries/legal-entity/entity-writes.ts';
import { addYears, createRng, daysFromCivil, formatDay, parseCivil, type Rng } from '../synthetic/index.ts';
import { generatePointPools } from './geography.ts';

export type EntityDefectKind =
  | 'bad_uscc_check'
  | 'legal_rep_missing'
  | 'legal_rep_deceased'
  | 'point_outside_division'
  | 'shareholdings_over_100';

export const ENTITY_DEFECT_KINDS: readonly EntityDefectKind[] = [
  'bad_uscc_check',
  'legal_rep_missing',
  'legal_rep_deceased',
  'point_outside_division',
  'shareholdings_over_100',
];

export interface EntityGenerateOptions {
  entities: number;
  seed: string | number;
  /** YYYY-MM-DD; no entity is established after it. Default today (UTC). */
  asOf?: string;
  /** Rate 0..1 per kind (of all entities); default 0.001 each. */
  defects?: Partial<Record<EntityDefectKind, number>>;
  /** source_batch of every row; default `gen-entities-<seed>`. */
  batch?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface EntityManifest {
  seed: string;
  asOf: string;
  batch: string;
  entities: number;
  branches: number;
  subordinateUnits: number;
  formerNames: number;
  shareholdings: { person: number; entity: number; other: number };
  qualifications: number;
  onlineShops: number;
  /** Early pilot codes: valid, flagged pilot_exception (not defects). */
  pilotExceptions: string[];
  /** Deep ownership chains, each from the bottom entity up to its top holder entity (USCCs). */
  chains: string[][];
  /** Cross-holding cycles (USCCs; each holds a share of the next, the last of the first). */
  cycles: string[][];
  /** The entities carrying each injected defect (USCCs), in registration order. */
  defects: Record<EntityDefectKind, string[]>;
  /** Defects that could not be injected as asked, and why. */
  notes: string[];
}

/** Entities per write batch. */
const BATCH = 2000;
/** Orgnisation-code bodies: 'MA' + 6 characters from a bijection of the serial number (31^6 codes). */
const BODY_SPACE = 31n ** 6n;
const BODY_MULTIPLIER = 123_456_791n; // coprime with 31
const BODY_OFFSET = 3_141_592n;
/** Share of early pilot codes among generated codes. */
const PILOT_SHARE = 0.002;
const BRANCH_SHARE = 0.05;

interface Place {
  code: string;
  name: string;
  /** Province + city + county names, the start of an address and of an authority's name. */
  prefix: string;
  /** The city (or municipality/province) name used in entity names, e.g. 深圳市. */
  cityName: string;
  provinceCode: string;
  boundaryCode: string | null;
  adults: number;
}

interface PoolPerson {
  id: number;
  idNumber: string;
  name: string;
}

/** An entity to register, with everything attached to it. */
interface Plan {
  index: number;
  input: EntityInput;
  source: string;
  /** Plan (in the same batch) of the unit above, for subordinate units. */
  parentPlan?: Plan;
  holders: { holder: ShareholdingInput['holder']; percentage: number }[];
  /** Percentages of holdings to be taken by other entities. */
  entitySlots: number[];
  qualifications: Omit<QualificationInput, 'entityId'>[];
  shops: Omit<OnlineShopInput, 'operator' | 'divisionCode'>[];
  formerNames: Omit<FormerNameInput, 'entityId'>[];
  defect: EntityDefectKind | null;
  investor: boolean;
  headOffice: boolean;
  id?: number;
}

interface Slot {
  entityId: number;
  entityIndex: number;
  percentage: number;
  capital: number;
  establishedDay: number;
}

// ---------------------------------------------------------------------------------------------
// Reference tables
// ---------------------------------------------------------------------------------------------

interface FormSpec {
  form: LegalForm;
  dept: string;
  category: string;
  weight: number;
  source: string;
}

/** Roughly the mix of registered market entities and other legal persons (individual businesses are
 * about two thirds of market entities nationally; fewer here so companies and their graph dominate). */
const FORMS: readonly FormSpec[] = [
  { form: 'limited_liability_company', dept: '9', category: '1', weight: 50, source: 'SAMR' },
  { form: 'joint_stock_company', dept: '9', category: '1', weight: 2, source: 'SAMR' },
  { form: 'sole_proprietorship', dept: '9', category: '1', weight: 3, source: 'SAMR' },
  { form: 'partnership', dept: '9', category: '1', weight: 3, source: 'SAMR' },
  { form: 'individual_business', dept: '9', category: '2', weight: 30, source: 'SAMR' },
  { form: 'farmer_cooperative', dept: '9', category: '3', weight: 3, source: 'SAMR' },
  { form: 'state_organ', dept: '1', category: '1', weight: 1.5, source: 'SCOPSR' },
  { form: 'public_institution', dept: '1', category: '2', weight: 2.5, source: 'SCOPSR' },
  { form: 'social_organisation', dept: '5', category: '1', weight: 1.5, source: 'MCA' },
  { form: 'private_non_enterprise', dept: '5', category: '2', weight: 1.5, source: 'MCA' },
  { form: 'foundation', dept: '5', category: '3', weight: 0.2, source: 'MCA' },
];
const FORM_TOTAL = FORMS.reduce((s, f) => s + f.weight, 0);

interface Industry {
  code: string;
  /** Word used in company names. */
  word: string;
  scope: string;
}

/** GB/T 4754-2017 classes used by the generator, with a name word and a business scope. */
// biome-ignore format: compact data table
const INDUSTRIES: readonly Industry[] = [
  { code: 'A0111', word: '农业发展', scope: '谷物种植；农产品的生产、销售、加工、运输、贮藏及其他相关服务' },
  { code: 'C1311', word: '粮油', scope: '粮食加工食品生产；食用农产品初加工' },
  { code: 'C1512', word: '酒业', scope: '酒制品生产；酒类经营' },
  { code: 'C2614', word: '化工', scope: '化工产品生产（不含许可类化工产品）；化工产品销售' },
  { code: 'C3360', word: '金属制品', scope: '金属表面处理及热处理加工；金属制品销售' },
  { code: 'C3670', word: '汽车零部件', scope: '汽车零部件及配件制造；汽车零配件批发' },
  { code: 'C3911', word: '电子科技', scope: '计算机软硬件及外围设备制造；电子产品销售' },
  { code: 'C3922', word: '通信设备', scope: '通信设备制造；移动终端设备制造' },
  { code: 'E4701', word: '建筑工程', scope: '房屋建筑和市政基础设施项目工程总承包；住宅室内装饰装修' },
  { code: 'E4811', word: '路桥工程', scope: '铁路工程施工；公路工程施工' },
  { code: 'F5121', word: '粮油贸易', scope: '食用农产品批发；粮油仓储服务' },
  { code: 'F5211', word: '百货', scope: '日用百货销售；服装服饰零售' },
  { code: 'F5212', word: '超市', scope: '食品销售；日用品销售' },
  { code: 'F5292', word: '电子商务', scope: '互联网销售（除销售需要许可的商品）；供应链管理服务' },
  { code: 'G5411', word: '公交', scope: '城市公共交通；道路旅客运输经营' },
  { code: 'H6110', word: '酒店管理', scope: '住宿服务；酒店管理' },
  { code: 'H6210', word: '餐饮管理', scope: '餐饮服务；餐饮管理' },
  { code: 'H6220', word: '快餐', scope: '餐饮服务；食品小作坊经营' },
  { code: 'I6311', word: '通信', scope: '基础电信业务；通信设备销售' },
  { code: 'I6421', word: '网络科技', scope: '互联网信息服务；网络技术服务' },
  { code: 'I6511', word: '软件', scope: '基础软件开发；软件销售' },
  { code: 'I6513', word: '信息技术', scope: '软件开发；信息技术咨询服务；信息系统集成服务' },
  { code: 'J6621', word: '村镇银行', scope: '吸收公众存款；发放短期、中期和长期贷款' },
  { code: 'K7010', word: '房地产开发', scope: '房地产开发经营；住房租赁' },
  { code: 'K7020', word: '物业管理', scope: '物业管理；停车场服务' },
  { code: 'K7030', word: '房产经纪', scope: '房地产经纪；房地产咨询' },
  { code: 'L7211', word: '控股', scope: '企业总部管理；以自有资金从事投资活动' },
  { code: 'L7212', word: '投资管理', scope: '以自有资金从事投资活动；企业管理咨询' },
  { code: 'L7241', word: '财务咨询', scope: '财务咨询；税务服务' },
  { code: 'M7310', word: '科学研究', scope: '工程和技术研究和试验发展；技术服务、技术开发、技术转让' },
  { code: 'O8010', word: '家政服务', scope: '家政服务；养老服务' },
  { code: 'O8111', word: '汽车维修', scope: '机动车修理和维护；汽车零配件零售' },
  { code: 'Q8411', word: '医院', scope: '医疗服务' },
];
/** Individual businesses: an industry and the shop words that go with it. */
const INDIVIDUAL_KINDS: readonly { code: string; words: readonly string[] }[] = [
  { code: 'F5211', words: ['百货店', '服装店', '五金店', '日杂店'] },
  { code: 'F5212', words: ['超市', '便利店'] },
  { code: 'H6220', words: ['小吃店', '快餐店', '面馆'] },
  { code: 'H6210', words: ['餐馆', '饭店', '私房菜馆'] },
  { code: 'O8111', words: ['汽车修理店', '汽修厂'] },
  { code: 'O8010', words: ['家政服务部'] },
  { code: 'F5292', words: ['网店', '电商经营部'] },
];

// biome-ignore format: compact data table
const TRADE_NAME_CHARS: readonly string[] = [
  '华', '鑫', '瑞', '泰', '盛', '恒', '达', '宏', '兴', '源', '德', '嘉', '信', '诚', '安', '丰', '利', '祥',
  '福', '博', '天', '中', '新', '金', '明', '海', '永', '宇', '创', '智', '汇', '通', '景', '正', '远', '凯',
  '润', '佳', '辉', '晟', '昌', '隆', '鼎', '致', '合', '和', '易', '优', '星', '康', '聚', '锦', '力', '腾',
];
// biome-ignore format: compact data table
const ORGANS = [
  '教育局', '卫生健康局', '财政局', '民政局', '自然资源局', '住房和城乡建设局', '交通运输局', '农业农村局', '文化和旅游局', '应急管理局',
];
const INSTITUTIONS: readonly { word: string; industry: string }[] = [
  { word: '第一中学', industry: 'P8331' },
  { word: '实验小学', industry: 'P8321' },
  { word: '人民医院', industry: 'Q8411' },
  { word: '疾病预防控制中心', industry: 'Q8431' },
  { word: '图书馆', industry: 'R8831' },
  { word: '政务服务中心', industry: 'S9221' },
];
const SOCIAL_ORGS = ['商会', '个体劳动者协会', '餐饮行业协会', '软件行业协会', '书法家协会', '志愿者协会'];
const PRIVATE_NON_ENTERPRISES = ['培训学校', '养老院', '幼儿园', '社会工作服务中心'];
const OTHER_HOLDERS = ['人民政府国有资产监督管理委员会', '财政局'];
// biome-ignore format: compact data table
const FOREIGN_HOLDERS = [
  '香港华兴投资有限公司', '新加坡瑞丰控股私人有限公司', '日本东和商事株式会社', '美国太平洋资本有限责任公司',
];
const BUILDINGS = ['大厦', '广场', '科技园', '商务中心', '产业园', '国际中心'];
// biome-ignore format: compact data table
const ROADS = [
  '人民路', '解放路', '建设路', '中山路', '科技路', '创业路', '新华路', '东风路', '滨河路', '工业大道', '金融街', '长江路',
];
const PLATFORMS: readonly { name: string; url: (n: number) => string }[] = [
  { name: '淘宝', url: (n) => `https://shop${n}.taobao.com` },
  { name: '天猫', url: (n) => `https://store${n}.tmall.com` },
  { name: '京东', url: (n) => `https://mall.jd.com/index-${n}.html` },
  { name: '拼多多', url: (n) => `https://mobile.yangkeduo.com/mall_page.html?mall_id=${n}` },
  { name: '抖音', url: (n) => `https://haohuo.jinritemai.com/views/shop/index?id=${n}` },
  { name: '美团', url: (n) => `https://www.meituan.com/shop/${n}/` },
];

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

interface Normalised {
  entities: number;
  seed: string;
  asOf: string;
  asOfDay: number;
  rates: Record<EntityDefectKind, number>;
  batch: string;
  onProgress: ((done: number, total: number) => void) | undefined;
}

/** Validates options; throws RangeError with a message fit for a command line. */
export function normaliseEntityOptions(options: EntityGenerateOptions): Normalised {
  if (!Number.isSafeInteger(options.entities) || options.entities < 0) {
    throw new RangeError(`entities must be a non-negative integer, got ${options.entities}`);
  }
  const seed = String(options.seed);
  if (seed === '') throw new RangeError('seed must be a non-empty string or a number');
  const asOf = options.asOf ?? new Date().toISOString().slice(0, 10);
  let asOfDay: number;
  try {
    const civil = parseCivil(asOf, new Int32Array(3));
    asOfDay = daysFromCivil(civil[0]!, civil[1]!, civil[2]!);
  } catch {
    throw new RangeError(`asOf must be a real YYYY-MM-DD date, got '${asOf}'`);
  }
  const rates = Object.fromEntries(ENTITY_DEFECT_KINDS.map((k) => [k, 0.001])) as Record<
    EntityDefectKind,
    number
  >;
  for (const [kind, rate] of Object.entries(options.defects ?? {})) {
    if (!ENTITY_DEFECT_KINDS.includes(kind as EntityDefectKind)) {
      throw new RangeError(`unknown entity defect kind '${kind}' (known: ${ENTITY_DEFECT_KINDS.join(', ')})`);
    }
    if (rate === undefined) continue;
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new RangeError(`defect rate of ${kind} must be a number from 0 to 1, got ${rate}`);
    }
    rates[kind as EntityDefectKind] = rate;
  }
  const sum = Object.values(rates).reduce((a, b) => a + b, 0);
  if (sum > 1) throw new RangeError(`entity defect rates sum to ${sum}, more than 1`);
  return {
    entities: options.entities,
    seed,
    asOf,
    asOfDay,
    rates,
    batch: options.batch ?? `gen-entities-${seed}`,
    onProgress: options.onProgress,
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Splits 100 % into `n` shares (2 decimals, summing to exactly 100), uneven like real cap tables. */
function splitPercent(rng: Rng, n: number, total = 100): number[] {
  if (n <= 1) return [total];
  const weights = Array.from({ length: n }, () => -Math.log(1 - rng.nextFloat() * 0.999) + 0.05);
  const sum = weights.reduce((a, b) => a + b, 0);
  const cents = weights.map((w) => Math.max(1, Math.floor((w / sum) * total * 100)));
  const rest = Math.round(total * 100) - cents.reduce((a, b) => a + b, 0);
  cents[0] = cents[0]! + rest;
  if (cents[0]! < 1) {
    // Too many holders for too small a total: equal shares, the remainder to the first.
    const each = Math.floor((total * 100) / n);
    cents.fill(each);
    cents[0] = Math.round(total * 100) - each * (n - 1);
  }
  return cents.map((c) => c / 100).sort((a, b) => b - a);
}

/** Log-uniform amount in yuan, rounded to a round figure. */
function amount(rng: Rng, minExp: number, maxExp: number): number {
  const raw = 10 ** (minExp + rng.nextFloat() * (maxExp - minExp));
  const unit = raw >= 1e6 ? 1e5 : raw >= 1e4 ? 1e3 : 100;
  return Math.max(unit, Math.round(raw / unit) * unit);
}

function assetBand(total: number): (typeof ASSET_BANDS)[number] {
  if (total < 1e6) return 'under_1m';
  if (total < 1e7) return '1m_10m';
  if (total < 1e8) return '10m_100m';
  if (total < 1e9) return '100m_1b';
  return 'over_1b';
}

/** Day of establishment: weighted towards recent years, as registrations have grown. */
function establishedDay(rng: Rng, asOfDay: number, maxYears: number): number {
  const years = maxYears * rng.nextFloat() ** 1.8;
  return Math.max(asOfDay - Math.floor(years * 365.25) - 1, asOfDay - maxYears * 366);
}

/** 2 → 二, 10 → 十, 23 → 二十三 (numbers 1..99, as in 第二分公司); larger numbers in digits. */
function chineseNumber(n: number): string {
  const digits = '零一二三四五六七八九';
  if (n < 10) return digits[n]!;
  if (n >= 100) return String(n);
  const tens = Math.floor(n / 10);
  return `${tens === 1 ? '' : digits[tens]}十${n % 10 === 0 ? '' : digits[n % 10]}`;
}

function tradeName(rng: Rng): string {
  return rng.pick(TRADE_NAME_CHARS) + rng.pick(TRADE_NAME_CHARS);
}

function orgBody(serial: number): string {
  let v = (BigInt(serial) * BODY_MULTIPLIER + BODY_OFFSET) % BODY_SPACE;
  let s = '';
  for (let i = 0; i < 6; i++) {
    s = USCC_ALPHABET[Number(v % 31n)]! + s;
    v /= 31n;
  }
  return `MA${s}`;
}

/** A valid code whose embedded organisation-code check is wrong: an early pilot code. */
function pilotCode(valid: string): string {
  const orgCheck = valid[16]!;
  const replacement = orgCheck === '1' ? '2' : '1';
  const first17 = valid.slice(0, 16) + replacement;
  return first17 + usccCheckChar(first17);
}

/** The same code with a wrong final check character. */
function badCheckCode(valid: string): string {
  const i = USCC_ALPHABET.indexOf(valid[17]!);
  return valid.slice(0, 17) + USCC_ALPHABET[(i + 1) % 31]!;
}

/** GB/T 18284-style patent number ZL + year + type + 7 digits + '.' + check (mod 11, 10 = X). */
function patentNumber(year: number, type: 1 | 2 | 3, serial: number): string {
  // Seven serial digits as issued; a longer serial (very large runs) keeps the numbers unique.
  const digits = `${year}${type}${String(serial).padStart(7, '0')}`;
  const weights = [2, 3, 4, 5, 6, 7, 8, 9];
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * weights[i % 8]!;
  const check = sum % 11;
  return `ZL${digits}.${check === 10 ? 'X' : check}`;
}

function largestRemainder(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w / sum) * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact
    .map((e, i) => [e - Math.floor(e), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    counts[i] = counts[i]! + 1;
  }
  return counts;
}

/** Defects spread evenly: each kind's targets are positions in the run; an entity that cannot carry the
 * kind (no point, no shareholders) passes it on to the next that can. */
class DefectSchedule {
  private readonly targets: number[][];
  private readonly owed: number[];
  constructor(rng: Rng, total: number, rates: Record<EntityDefectKind, number>) {
    this.targets = ENTITY_DEFECT_KINDS.map((kind, k) => {
      const count = Math.min(total, Math.round(rates[kind] * total));
      const r = rng.fork(k);
      return Array.from({ length: count }, () => r.int(0, Math.max(0, total - 1))).sort((a, b) => b - a);
    });
    this.owed = ENTITY_DEFECT_KINDS.map(() => 0);
  }

  /** Kinds due at this position; call `take` for the one applied. */
  due(position: number): void {
    for (let k = 0; k < this.targets.length; k++) {
      const t = this.targets[k]!;
      while (t.length > 0 && t.at(-1)! <= position) {
        t.pop();
        this.owed[k] = this.owed[k]! + 1;
      }
    }
  }

  take(eligible: (kind: EntityDefectKind) => boolean): EntityDefectKind | null {
    for (let k = 0; k < this.owed.length; k++) {
      const kind = ENTITY_DEFECT_KINDS[k]!;
      if (this.owed[k]! > 0 && eligible(kind)) {
        this.owed[k] = this.owed[k]! - 1;
        return kind;
      }
    }
    return null;
  }

  remaining(): Record<EntityDefectKind, number> {
    return Object.fromEntries(
      ENTITY_DEFECT_KINDS.map((k, i) => [k, this.owed[i]! + this.targets[i]!.length]),
    ) as Record<EntityDefectKind, number>;
  }
}

// ---------------------------------------------------------------------------------------------
// Geography and persons
// ---------------------------------------------------------------------------------------------

/** Current county-level places (and cities without counties) with adult persons living there. */
async function loadPlaces(db: Database, adultCutoff: string): Promise<Place[]> {
  const found = await db.query<{
    code: string;
    name: string;
    p_name: string | null;
    p_level: string | null;
    p_code: string | null;
    g_name: string | null;
    g_code: string | null;
    boundary_code: string | null;
    adults: number;
  }>(
    `WITH people AS (
       SELECT left(coalesce(residence_division_code, hukou_division_code), 6) AS code, count(*)::int AS adults
         FROM persons WHERE status = 'alive' AND birth_date <= $1::date GROUP BY 1)
     SELECT c.code, c.name, p.name AS p_name, p.level AS p_level, p.code AS p_code, g.name AS g_name,
            g.code AS g_code,
            CASE WHEN c.boundary IS NOT NULL THEN c.code
                 WHEN p.level = 'city' AND p.boundary IS NOT NULL THEN p.code END AS boundary_code,
            people.adults
       FROM people JOIN divisions c ON c.code = people.code AND c.valid_to IS NULL
       LEFT JOIN divisions p ON p.code = c.parent_code
       LEFT JOIN divisions g ON g.code = p.parent_code
      WHERE c.level IN ('county', 'city')
      ORDER BY c.code`,
    [adultCutoff],
  );
  return found.map((r) => {
    const underProvince = r.p_level === 'province' || r.p_level === null;
    const provinceName = underProvince ? (r.p_name ?? '') : (r.g_name ?? '');
    // The place named in entity names: the city; a municipality; or a county-level city or county
    // directly under its province (仙桃市, 可克达拉市).
    const cityName =
      r.p_level === 'city'
        ? r.p_name!
        : r.p_level === 'province' && r.p_name?.endsWith('市')
          ? r.p_name
          : r.name;
    const prefix =
      r.p_level === 'city'
        ? `${provinceName}${r.p_name}${r.name}`
        : r.p_level === 'province'
          ? `${provinceName}${r.name}`
          : r.name;
    return {
      code: r.code,
      name: r.name,
      prefix,
      cityName,
      provinceCode: `${r.code.slice(0, 2)}0000`,
      boundaryCode: r.boundary_code,
      adults: Number(r.adults),
    };
  });
}

/** Names registered in a division already: none on a first run; the database's on an append. */
async function namesTaken(db: Database, code: string, appending: boolean): Promise<Set<string>> {
  if (!appending) return new Set();
  const found = await db.query<{ name: string }>('SELECT name FROM entities WHERE division_code = $1', [
    code,
  ]);
  return new Set(found.map((r) => r.name));
}

async function personPool(
  db: Database,
  code: string,
  adultCutoff: string,
  limit: number,
): Promise<PoolPerson[]> {
  // By residence (indexed), else by household registration: whoever lives or is registered there.
  for (const column of ['residence_division_code', 'hukou_division_code']) {
    const found = await db.query<{ id: number; id_number: string; name: string }>(
      `SELECT id, id_number, name FROM persons
        WHERE ${column} BETWEEN $1 AND $2 AND status = 'alive' AND birth_date <= $3::date
        ORDER BY id LIMIT $4`,
      [code, `${code}999999`, adultCutoff, limit],
    );
    if (found.length > 0) {
      // Stored encrypted: the registration carries the number in clear, and the write path encrypts it.
      const codec = codecFor(db);
      return found.map((p) => ({
        id: Number(p.id),
        idNumber: codec.decodeValue(p.id_number)!,
        name: p.name,
      }));
    }
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

export async function generateEntities(
  db: Database,
  options: EntityGenerateOptions,
): Promise<EntityManifest> {
  const opts = normaliseEntityOptions(options);
  const manifest: EntityManifest = {
    seed: opts.seed,
    asOf: opts.asOf,
    batch: opts.batch,
    entities: 0,
    branches: 0,
    subordinateUnits: 0,
    formerNames: 0,
    shareholdings: { person: 0, entity: 0, other: 0 },
    qualifications: 0,
    onlineShops: 0,
    pilotExceptions: [],
    chains: [],
    cycles: [],
    defects: Object.fromEntries(ENTITY_DEFECT_KINDS.map((k) => [k, [] as string[]])) as Record<
      EntityDefectKind,
      string[]
    >,
    notes: [],
  };
  if (opts.entities === 0) return manifest;

  const asOfCivil = parseCivil(opts.asOf, new Int32Array(3));
  const adultCutoff = formatDay(addYears(asOfCivil[0]!, asOfCivil[1]!, asOfCivil[2]!, -18));
  const places = await loadPlaces(db, adultCutoff);
  if (places.length === 0) {
    throw new Error('no adult persons to draw legal representatives from: generate persons first');
  }
  const [start] = await db.query<{ max: number | null }>('SELECT max(id) AS max FROM entities');
  let serial = Number(start?.max ?? 0) + 1;
  const appending = serial > 1;
  // An append with the same seed must not replay the entities already there.
  const root = createRng(opts.seed).fork(serial > 1 ? `entities-append:${serial}` : 'entities');
  const deceased = (
    await db.query<{ id: number; id_number: string; name: string }>(
      `SELECT id, id_number, name FROM persons WHERE status = 'deceased' ORDER BY id LIMIT 500`,
    )
  ).map((p) => ({ id: Number(p.id), idNumber: codecFor(db).decodeValue(p.id_number)!, name: p.name }));

  const branchTotal = Math.floor(opts.entities * BRANCH_SHARE);
  const mainTotal = opts.entities - branchTotal;
  const quotas = largestRemainder(
    places.map((p) => p.adults),
    mainTotal,
  );
  const defects = new DefectSchedule(root.fork('defects'), mainTotal, opts.rates);
  const points = await generatePointPools(
    db,
    places
      .map((p, i) => ({ place: p, n: quotas[i]! }))
      .filter((r) => r.n > 0 && r.place.boundaryCode)
      .map((r) => ({
        code: r.place.boundaryCode!,
        points: r.n + Math.ceil(r.n * BRANCH_SHARE * 2) + 5,
        seed: 1 + (root.fork(`points:${r.place.code}`).nextUint32() % 2_000_000_000),
      }))
      // Several places may share a city boundary: one pool each is enough (sizes add up below).
      .reduce<{ code: string; points: number; seed: number }[]>((acc, r) => {
        const same = acc.find((a) => a.code === r.code);
        if (same) same.points += r.points;
        else acc.push(r);
        return acc;
      }, []),
  );
  const pointCursor = new Map<string, number>();
  const nextPoint = (place: Place, rng: Rng): [number, number] | null => {
    if (!place.boundaryCode) return null;
    const pool = points.get(place.boundaryCode);
    if (!pool || pool.length === 0) return null;
    const at = pointCursor.get(place.boundaryCode) ?? rng.int(0, pool.length - 1);
    pointCursor.set(place.boundaryCode, at + 1);
    const [lon, lat] = pool[at % pool.length]!.split(' ').map(Number) as [number, number];
    return [lon, lat];
  };

  // Everything kept across counties, per main entity: its id, establishment day and province.
  const allIds: number[] = [];
  const allDays: number[] = [];
  const allProvince: string[] = [];
  /** Indexes (into allIds) of entities that may hold shares of others, by province. */
  const investorsByProvince = new Map<string, number[]>();
  const investors: number[] = [];
  /** Every company, when too few are large enough to invest. */
  const companies: number[] = [];
  const headOffices: { index: number; name: string; province: string }[] = [];
  const headOfficesByProvince = new Map<string, { index: number; name: string; province: string }[]>();
  const slots: Slot[] = [];
  // Shop numbers of unregistered sellers: serials past this run's entities (as for their own numbers).
  let sellerSerial = serial + opts.entities + 1;

  let buffer: Plan[] = [];
  let done = 0;

  const flush = async () => {
    if (buffer.length === 0) return;
    const plans = buffer;
    buffer = [];
    // Units with a parent in this batch go after it.
    for (const wave of [plans.filter((p) => !p.parentPlan), plans.filter((p) => p.parentPlan)]) {
      for (const dept of ['SAMR', 'SCOPSR', 'MCA']) {
        const group = wave.filter((p) => p.source === dept);
        for (let i = 0; i < group.length; i += BATCH) {
          const chunk = group.slice(i, i + BATCH);
          for (const p of chunk) if (p.parentPlan) p.input.parentEntityId = p.parentPlan.id!;
          const ids = await insertEntities(
            db,
            chunk.map((p) => p.input),
            { dept, batch: opts.batch },
            { acceptDefects: true },
          );
          chunk.forEach((p, k) => {
            p.id = ids[k]!;
          });
        }
      }
    }
    const holdings: ShareholdingInput[] = [];
    const quals: QualificationInput[] = [];
    const shops: OnlineShopInput[] = [];
    const names: FormerNameInput[] = [];
    for (const p of plans) {
      const id = p.id!;
      allIds[p.index] = id;
      const capital = Number(p.input.registeredCapital ?? 0);
      for (const h of p.holders) {
        holdings.push({
          entityId: id,
          holder: h.holder,
          percentage: h.percentage.toFixed(2),
          subscribedAmount: capital ? ((capital * h.percentage) / 100).toFixed(2) : null,
          acquiredOn: p.input.establishedOn,
        });
        manifest.shareholdings[h.holder.kind]++;
      }
      for (const pct of p.entitySlots) {
        slots.push({
          entityId: id,
          entityIndex: p.index,
          percentage: pct,
          capital,
          establishedDay: allDays[p.index]!,
        });
      }
      for (const q of p.qualifications) quals.push({ ...q, entityId: id });
      for (const s of p.shops) {
        shops.push({ ...s, operator: { kind: 'entity', entityId: id }, divisionCode: p.input.divisionCode });
      }
      for (const n of p.formerNames) names.push({ ...n, entityId: id });
      if (p.defect) manifest.defects[p.defect].push(p.input.uscc);
    }
    for (let i = 0; i < holdings.length; i += BATCH * 2) {
      await insertShareholdings(db, holdings.slice(i, i + BATCH * 2), { dept: 'SAMR', batch: opts.batch });
    }
    await insertQualifications(db, quals, { dept: 'SAMR', batch: opts.batch });
    await insertOnlineShops(db, shops, { dept: 'SAMR', batch: opts.batch });
    await insertFormerNames(db, names, { dept: 'SAMR', batch: opts.batch });
    manifest.qualifications += quals.length;
    manifest.onlineShops += shops.length;
    manifest.formerNames += names.length;
    manifest.entities += plans.length;
    done += plans.length;
    opts.onProgress?.(done, opts.entities);
  };

  let position = 0;
  for (let pi = 0; pi < places.length; pi++) {
    const place = places[pi]!;
    const quota = quotas[pi]!;
    if (quota === 0) continue;
    const rng = root.fork(`county:${place.code}`);
    let pool = await personPool(db, place.code, adultCutoff, 3000);
    if (pool.length === 0) pool = await personPool(db, place.provinceCode.slice(0, 2), adultCutoff, 3000);
    const organs: Plan[] = [];
    const names = await namesTaken(db, place.code, appending);
    const personShops: Omit<OnlineShopInput, 'divisionCode'>[] = [];

    for (let k = 0; k < quota; k++, position++) {
      const r = rng.fork(k);
      const spec = pickForm(r);
      const index = allIds.length;
      allIds.push(0);
      defects.due(position);
      const plan = planEntity(r, spec, place, pool, index, serial++, opts, nextPoint(place, r), names);
      allDays[index] = plan.day;
      allProvince[index] = place.provinceCode;
      if (spec.form === 'public_institution' && organs.length > 0) {
        plan.plan.parentPlan = r.pick(organs);
        plan.plan.input.parentRelation = 'subordinate';
        manifest.subordinateUnits++;
      }
      if (spec.form === 'state_organ') organs.push(plan.plan);
      const defect = defects.take((kind) => {
        // A cancelled (deregistered) entity needs no living representative: the quality rule
        // legal_entity.entities.legal_rep_alive rightly skips it, so neither defect would be one there.
        if (kind === 'legal_rep_missing') return plan.plan.input.status !== 'cancelled';
        if (kind === 'legal_rep_deceased')
          return deceased.length > 0 && !!plan.plan.input.legalRep && plan.plan.input.status !== 'cancelled';
        if (kind === 'point_outside_division') return !!plan.plan.input.point;
        if (kind === 'shareholdings_over_100')
          return plan.plan.holders.some((h) => h.holder.kind === 'person');
        return true;
      });
      if (defect) injectDefect(r, plan.plan, defect, place, deceased);
      if (plan.plan.input.uscc !== plan.validUscc && !defect)
        manifest.pilotExceptions.push(plan.plan.input.uscc);
      if (spec.form === 'limited_liability_company' || spec.form === 'joint_stock_company')
        companies.push(index);
      if (plan.plan.investor) {
        investors.push(index);
        const list = investorsByProvince.get(place.provinceCode) ?? [];
        list.push(index);
        investorsByProvince.set(place.provinceCode, list);
      }
      if (plan.plan.headOffice) {
        const head = { index, name: plan.plan.input.name, province: place.provinceCode };
        headOffices.push(head);
        const list = headOfficesByProvince.get(place.provinceCode) ?? [];
        list.push(head);
        headOfficesByProvince.set(place.provinceCode, list);
      }
      buffer.push(plan.plan);
    }
    // Individuals who sell online without a registered business.
    const sellers = Math.min(pool.length, Math.round(quota * 0.02));
    for (let k = 0; k < sellers; k++) {
      const r = rng.fork(`seller:${k}`);
      const person = r.pick(pool);
      const platform = r.pick(PLATFORMS);
      personShops.push({
        platform: platform.name,
        shopName: `${person.name.slice(0, 1)}${r.pick(TRADE_NAME_CHARS)}${r.pick(['小铺', '好物', '优选', '手作'])}`,
        shopUrl: platform.url(sellerSerial++ * 16 + 14),
        operator: { kind: 'person', personId: person.id },
        status: r.chance(0.85) ? 'active' : 'closed',
        openedOn: formatDay(establishedDay(r, opts.asOfDay, 8)),
      });
    }
    if (personShops.length > 0) {
      await insertOnlineShops(
        db,
        personShops.map((s) => ({ ...s, divisionCode: place.code })),
        { dept: 'SAMR', batch: opts.batch },
      );
      manifest.onlineShops += personShops.length;
    }
    if (buffer.length >= BATCH || pi === places.length - 1) await flush();
  }
  await flush();

  // ------------------------------------------------------------------ entity slots: chains, cycles, rest
  const graph = root.fork('graph');
  const filled = new Set<number>();
  const entityHoldings: ShareholdingInput[] = [];
  const hold = (slotIndex: number, holderIndex: number) => {
    const slot = slots[slotIndex]!;
    filled.add(slotIndex);
    const day = Math.max(slot.establishedDay, allDays[holderIndex]!);
    entityHoldings.push({
      entityId: slot.entityId,
      holder: { kind: 'entity', entityId: allIds[holderIndex]! },
      percentage: slot.percentage.toFixed(2),
      subscribedAmount: slot.capital ? ((slot.capital * slot.percentage) / 100).toFixed(2) : null,
      acquiredOn: formatDay(Math.min(day, opts.asOfDay)),
    });
  };
  // Slots in a seeded random order; chains and cycles take them from the front.
  const order = slots.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = graph.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const used = new Set<number>();
  const take = (count: number, accept: (slot: Slot) => boolean): number[] => {
    const picked: number[] = [];
    for (const i of order) {
      if (picked.length === count) break;
      const slot = slots[i]!;
      if (filled.has(i) || used.has(slot.entityIndex) || !accept(slot)) continue;
      picked.push(i);
      used.add(slot.entityIndex);
    }
    if (picked.length < count) {
      for (const i of picked) used.delete(slots[i]!.entityIndex);
      return [];
    }
    return picked;
  };
  // Deep chains: each member holds a majority of the one below (member 0 is the bottom).
  const chainIds: number[][] = [];
  const chainCount = Math.max(1, Math.round(opts.entities / 5000));
  for (let c = 0; c < chainCount; c++) {
    const members = take(c === 0 ? 8 : graph.int(6, 12), (slot) => slot.percentage > 50);
    if (members.length === 0) {
      manifest.notes.push(`only ${c} deep chains: too few majority-held entities`);
      break;
    }
    for (let k = 0; k < members.length - 1; k++) hold(members[k]!, slots[members[k + 1]!]!.entityIndex);
    chainIds.push(members.map((i) => slots[i]!.entityId));
  }
  // Cycles: each member holds a share of the next, the last of the first.
  const cycleIds: number[][] = [];
  const cycleCount = Math.max(1, Math.round(opts.entities / 20000));
  for (let c = 0; c < cycleCount; c++) {
    const members = take(graph.chance(0.5) ? 2 : 3, () => true);
    if (members.length === 0) {
      manifest.notes.push(`only ${c} cycles: too few entities with corporate holders`);
      break;
    }
    members.forEach((slotIndex, k) => {
      hold(slotIndex, slots[members[(k + 1) % members.length]!]!.entityIndex);
    });
    cycleIds.push(members.map((i) => slots[i]!.entityId));
  }
  // The rest: an investor of the same province mostly, never the entity itself.
  for (let i = 0; i < slots.length; i++) {
    if (filled.has(i)) continue;
    const slot = slots[i]!;
    const r = graph.fork(i);
    const local = investorsByProvince.get(allProvince[slot.entityIndex]!) ?? [];
    const candidates =
      r.chance(0.75) && local.length > 1 ? local : investors.length > 0 ? investors : companies;
    if (candidates.length === 0) continue;
    let holder = r.pick(candidates);
    if (holder === slot.entityIndex)
      holder = candidates[(candidates.indexOf(holder) + 1) % candidates.length]!;
    if (holder === slot.entityIndex) continue;
    hold(i, holder);
  }
  for (let i = 0; i < entityHoldings.length; i += BATCH * 2) {
    await insertShareholdings(db, entityHoldings.slice(i, i + BATCH * 2), {
      dept: 'SAMR',
      batch: opts.batch,
    });
  }
  manifest.shareholdings.entity += entityHoldings.length;

  // ------------------------------------------------------------------ branches
  const withQuota = places.filter((_, i) => quotas[i]! > 0);
  if (branchTotal > 0 && headOffices.length > 0 && withQuota.length > 0) {
    const b = root.fork('branches');
    const byPlace = new Map<number, number>();
    for (let k = 0; k < branchTotal; k++) {
      const p = b.int(0, withQuota.length - 1);
      byPlace.set(p, (byPlace.get(p) ?? 0) + 1);
    }
    // Branches of many places go in one write (a write per place costs a statement each, thousands of them).
    let plans: EntityInput[] = [];
    const write = async () => {
      await insertEntities(db, plans, { dept: 'SAMR', batch: opts.batch });
      manifest.branches += plans.length;
      manifest.entities += plans.length;
      done += plans.length;
      plans = [];
      opts.onProgress?.(done, opts.entities);
    };
    for (const [p, count] of [...byPlace.entries()].sort((x, y) => x[0] - y[0])) {
      const place = withQuota[p]!;
      const r = b.fork(`place:${place.code}`);
      const pool = await personPool(db, place.code, adultCutoff, 500);
      // Each place is visited once: its branches so far are all in `taken`, written or not.
      const taken = await namesTaken(db, place.code, true);
      for (let k = 0; k < count; k++) {
        const local = headOfficesByProvince.get(place.provinceCode) ?? [];
        const head = r.chance(0.6) && local.length > 0 ? r.pick(local) : r.pick(headOffices);
        const day = Math.max(allDays[head.index]! + r.int(30, 3000), allDays[head.index]! + 1);
        const established = Math.min(day, opts.asOfDay);
        const city = place.cityName.replace(/市$/, '');
        let name = head.name + (r.chance(0.7) ? `${city}分公司` : `${city}${place.name}分公司`);
        // A second branch of the same company in the same place is numbered (第二分公司, 第三分公司, …).
        for (let n = 2; taken.has(name); n++) name = `${head.name}${city}第${chineseNumber(n)}分公司`;
        taken.add(name);
        const rep = pool.length ? r.pick(pool) : null;
        plans.push({
          uscc: buildUscc('9', '1', place.code, orgBody(serial++)),
          name,
          legalForm: 'branch',
          legalRep: rep ? { personId: rep.id, idNumber: rep.idNumber, name: rep.name } : null,
          registeredCapital: null,
          establishedOn: formatDay(established),
          status: r.chance(0.9) ? 'active' : 'cancelled',
          statusDate: formatDay(established),
          businessScope: '在隶属企业经营范围内从事经营活动',
          industryCode: null,
          divisionCode: place.code,
          address: `${place.prefix}${r.pick(ROADS)}${r.int(1, 399)}号`,
          point: nextPoint(place, r),
          registrationAuthority: `${place.prefix}市场监督管理局`,
          parentEntityId: allIds[head.index]!,
          parentRelation: 'branch',
        });
      }
      if (plans.length >= BATCH) await write();
    }
    if (plans.length > 0) await write();
  }

  // ------------------------------------------------------------------ manifest
  const uscc = await usccOf(db, [...chainIds.flat(), ...cycleIds.flat()]);
  manifest.chains = chainIds.map((c) => c.map((id) => uscc.get(id)!));
  manifest.cycles = cycleIds.map((c) => c.map((id) => uscc.get(id)!));
  // A made-up representative ID number that happens to belong to someone is not a defect after all.
  if (manifest.defects.legal_rep_missing.length > 0) {
    const resolved = await db.query<{ uscc: string }>(
      'SELECT uscc FROM entities WHERE uscc = ANY($1::text[]) AND legal_rep_person_id IS NOT NULL',
      [manifest.defects.legal_rep_missing],
    );
    const drop = new Set(resolved.map((r) => r.uscc));
    manifest.defects.legal_rep_missing = manifest.defects.legal_rep_missing.filter((u) => !drop.has(u));
  }
  for (const [kind, left] of Object.entries(defects.remaining())) {
    if (left > 0) {
      manifest.notes.push(
        kind === 'legal_rep_deceased' && deceased.length === 0
          ? `${left} × ${kind} not injected: no deceased persons in the population registry`
          : `${left} × ${kind} not injected: no eligible entity left`,
      );
    }
  }
  return manifest;
}

async function usccOf(db: Database, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const found = await db.query<{ id: number; uscc: string }>(
    'SELECT id, uscc FROM entities WHERE id = ANY($1::bigint[])',
    [ids],
  );
  return new Map(found.map((r) => [Number(r.id), r.uscc]));
}

function pickForm(rng: Rng): FormSpec {
  let u = rng.nextFloat() * FORM_TOTAL;
  for (const spec of FORMS) {
    if (u < spec.weight) return spec;
    u -= spec.weight;
  }
  return FORMS[0]!;
}

function industry(code: string): Industry {
  return INDUSTRIES.find((i) => i.code === code) ?? { code, word: '', scope: '' };
}

/** One entity of a county: its registration, cap table, qualifications, shops and former names. */
function planEntity(
  r: Rng,
  spec: FormSpec,
  place: Place,
  pool: readonly PoolPerson[],
  index: number,
  serialNo: number,
  opts: Normalised,
  point: [number, number] | null,
  taken: Set<string>,
): { plan: Plan; day: number; validUscc: string } {
  const validUscc = buildUscc(spec.dept, spec.category, place.code, orgBody(serialNo));
  const uscc = r.chance(PILOT_SHARE) ? pilotCode(validUscc) : validUscc;
  const company = ['limited_liability_company', 'joint_stock_company'].includes(spec.form);
  const maxYears = spec.form === 'state_organ' || spec.form === 'public_institution' ? 40 : 30;
  const day = establishedDay(r, opts.asOfDay, maxYears);
  const city = place.cityName;
  // A registered name is unique among the entities of its division (the quality rule
  // legal_entity.entities.duplicate holds the registry to that): a name already taken is drawn again —
  // a new trade name, or for the few fixed names (bureaux, schools, associations) a qualified one — and a
  // serial number settles what twenty draws did not.
  const draw = (attempt: number) => {
    const trade = attempt < 12 ? tradeName(r) : tradeName(r) + tradeName(r);
    let ind: Industry;
    let name: string;
    let capital: number | null = null;
    switch (spec.form) {
      case 'limited_liability_company':
      case 'joint_stock_company':
        ind = r.pick(INDUSTRIES);
        name = `${city}${trade}${ind.word}${spec.form === 'joint_stock_company' ? '股份有限公司' : r.chance(0.8) ? '有限公司' : '有限责任公司'}`;
        capital = spec.form === 'joint_stock_company' ? amount(r, 7, 9.5) : amount(r, 4.5, 8.3);
        break;
      case 'sole_proprietorship':
        ind = industry(r.pick(['C3360', 'F5211', 'O8111', 'H6210']));
        name = `${place.name}${trade}${ind.word}${r.pick(['厂', '商行', '经营部'])}`;
        capital = amount(r, 4, 6);
        break;
      case 'partnership':
        ind = industry(r.pick(['L7212', 'L7241', 'M7310']));
        name = `${city}${trade}${ind.word}合伙企业（有限合伙）`;
        capital = amount(r, 5, 8);
        break;
      case 'individual_business': {
        const kind = r.pick(INDIVIDUAL_KINDS);
        ind = industry(kind.code);
        name = `${place.name}${trade}${r.pick(kind.words)}`;
        capital = r.chance(0.5) ? amount(r, 3.5, 5.5) : null;
        break;
      }
      case 'farmer_cooperative':
        ind = industry('A0111');
        name = `${place.name}${trade}${r.pick(['种植', '养殖', '果蔬', '茶叶'])}专业合作社`;
        capital = amount(r, 5, 6.5);
        break;
      case 'state_organ':
        ind = { code: 'S9221', word: '', scope: '依法履行行政管理职能' };
        // Past the county's bureaux, further state organs are sub-district offices (街道办事处).
        name = attempt < 4 ? `${place.name}${r.pick(ORGANS)}` : `${place.name}${trade}街道办事处`;
        break;
      case 'public_institution': {
        const inst = r.pick(INSTITUTIONS);
        ind = { code: inst.industry, word: '', scope: '公益服务' };
        name = `${place.name}${attempt < 4 ? '' : trade}${inst.word}`;
        capital = amount(r, 5, 7);
        break;
      }
      case 'social_organisation':
        ind = { code: 'S9521', word: '', scope: '行业交流、业务培训、咨询服务' };
        name = `${city}${attempt < 4 ? '' : trade}${r.pick(SOCIAL_ORGS)}`;
        capital = amount(r, 4.5, 5.5);
        break;
      case 'private_non_enterprise':
        ind = { code: 'P8391', word: '', scope: '非营利性社会服务' };
        name = `${city}${trade}${r.pick(PRIVATE_NON_ENTERPRISES)}`;
        capital = amount(r, 4.5, 6);
        break;
      default:
        ind = { code: 'S9522', word: '', scope: '资助公益慈善项目' };
        name = `${place.prefix.slice(0, 3)}${trade}慈善基金会`;
        capital = amount(r, 6.3, 7.5);
    }
    return { trade, ind, name, capital };
  };
  let drawn = draw(0);
  for (let attempt = 1; taken.has(drawn.name) && attempt < 20; attempt++) drawn = draw(attempt);
  const { trade, ind, capital } = drawn;
  const name = taken.has(drawn.name) ? `${drawn.name}（${serialNo}）` : drawn.name;
  taken.add(name);
  const u = r.nextFloat();
  const status: EntityInput['status'] =
    spec.form === 'state_organ' || spec.form === 'public_institution'
      ? 'active'
      : u < 0.84
        ? 'active'
        : u < 0.9
          ? 'revoked'
          : u < 0.99
            ? 'cancelled'
            : 'moved_out';
  const statusDay =
    status === 'active' ? day : Math.min(opts.asOfDay, day + r.int(90, Math.max(91, opts.asOfDay - day)));

  // The cap table.
  const holders: Plan['holders'] = [];
  const entitySlots: number[] = [];
  const person = () => (pool.length ? r.pick(pool) : null);
  const personHolder = (p: PoolPerson) =>
    ({ kind: 'person', personId: p.id, idNumber: p.idNumber, name: p.name }) as const;
  if (company) {
    const n =
      spec.form === 'joint_stock_company'
        ? r.int(5, 12)
        : r.chance(0.3)
          ? 1
          : r.chance(0.5)
            ? 2
            : r.int(3, 6);
    const kind = r.nextFloat();
    if (kind < 0.25) {
      // A subsidiary: another entity holds a majority, persons the rest.
      const major = n === 1 ? 100 : Math.round((51 + r.nextFloat() * (49 - n)) * 100) / 100;
      entitySlots.push(major);
      if (n > 1) {
        for (const pct of splitPercent(r, n - 1, Math.round((100 - major) * 100) / 100)) {
          const p = person();
          if (p) holders.push({ holder: personHolder(p), percentage: pct });
        }
      }
    } else {
      splitPercent(r, n).forEach((pct, k) => {
        const p = person();
        if (k === 0 && kind < 0.27) {
          // A state assets commission or a foreign investor holds the largest share.
          const name = r.chance(0.6) ? `${city}${r.pick(OTHER_HOLDERS)}` : r.pick(FOREIGN_HOLDERS);
          holders.push({ holder: { kind: 'other', name }, percentage: pct });
        } else if ((k === 1 && kind < 0.35) || !p) {
          entitySlots.push(pct); // a minority corporate holder
        } else {
          holders.push({ holder: personHolder(p), percentage: pct });
        }
      });
    }
  } else if (spec.form === 'sole_proprietorship') {
    const p = person();
    if (p) holders.push({ holder: personHolder(p), percentage: 100 });
  } else if (spec.form === 'partnership') {
    const shares = splitPercent(r, r.int(2, 5));
    shares.forEach((pct, k) => {
      const p = person();
      if (k === 0 && r.chance(0.3)) entitySlots.push(pct);
      else if (p) holders.push({ holder: personHolder(p), percentage: pct });
    });
  } else if (spec.form === 'farmer_cooperative') {
    for (const pct of splitPercent(r, r.int(5, 8))) {
      const p = person();
      if (p) holders.push({ holder: personHolder(p), percentage: pct });
    }
  }
  // The legal representative: often the largest natural-person holder.
  const largest = holders.find((h) => h.holder.kind === 'person')?.holder as
    | { kind: 'person'; personId: number; idNumber: string; name: string }
    | undefined;
  const repPerson: PoolPerson | null =
    largest && r.chance(0.7)
      ? { id: largest.personId, idNumber: largest.idNumber, name: largest.name }
      : person();
  const legalRep = repPerson
    ? { personId: repPerson.id, idNumber: repPerson.idNumber, name: repPerson.name }
    : null;

  const totalAssets = capital && company ? Math.round(capital * 10 ** (r.nextFloat() * 1.6 - 0.3)) : null;
  const input: EntityInput = {
    uscc,
    name,
    legalForm: spec.form,
    legalRep,
    registeredCapital: capital === null ? null : capital.toFixed(2),
    establishedOn: formatDay(day),
    status,
    statusDate: formatDay(statusDay),
    businessScope: ind.scope || null,
    industryCode: ind.code,
    divisionCode: place.code,
    address: `${place.prefix}${r.pick(ROADS)}${r.int(1, 399)}号${company && r.chance(0.5) ? `${trade}${r.pick(BUILDINGS)}${r.int(1, 30)}层` : ''}`,
    point,
    registrationAuthority:
      spec.dept === '9'
        ? `${place.prefix}市场监督管理局`
        : spec.dept === '1'
          ? `${place.prefix}机构编制委员会办公室`
          : `${place.prefix}民政局`,
    assetBand: totalAssets === null ? null : assetBand(totalAssets),
    totalAssets: totalAssets === null ? null : totalAssets.toFixed(2),
    annualRevenue: totalAssets === null ? null : Math.round(totalAssets * r.nextFloat() * 1.5).toFixed(2),
  };

  const plan: Plan = {
    index,
    input,
    source: spec.source,
    holders,
    entitySlots,
    qualifications: qualificationsFor(r, input, ind, trade, place, opts, company, serialNo),
    shops: [],
    formerNames: [],
    defect: null,
    investor: company && (capital ?? 0) >= 1e6,
    headOffice: company && (capital ?? 0) >= 5e6,
  };
  const retail = ind.code.startsWith('F52') || ind.code.startsWith('H62');
  if (
    (spec.form === 'individual_business' && retail && r.chance(0.15)) ||
    (company && retail && r.chance(0.3))
  ) {
    const platform = r.pick(PLATFORMS);
    plan.shops.push({
      platform: platform.name,
      shopName: `${trade}${r.pick(['旗舰店', '专营店', '小店', '官方店'])}`,
      shopUrl: platform.url(serialNo * 16 + 15),
      status: status === 'active' ? 'active' : 'closed',
      openedOn: formatDay(Math.min(opts.asOfDay, day + r.int(0, 2000))),
    });
  }
  if (company && r.chance(0.06) && day < opts.asOfDay - 400) {
    const renamedOn = day + r.int(200, opts.asOfDay - day - 1);
    plan.formerNames.push({
      name: `${city}${tradeName(r)}${ind.word}有限公司`,
      validFrom: formatDay(day),
      validTo: formatDay(renamedOn),
    });
  }
  return { plan, day, validUscc };
}

/** Qualifications of one entity; numbers derive from the entity's serial, unique across runs. */
function qualificationsFor(
  r: Rng,
  input: EntityInput,
  ind: Industry,
  trade: string,
  place: Place,
  opts: Normalised,
  company: boolean,
  serialNo: number,
): Omit<QualificationInput, 'entityId'>[] {
  const out: Omit<QualificationInput, 'entityId'>[] = [];
  const established = input.establishedOn;
  const estYear = Number(established.slice(0, 4));
  const inactive = input.status !== 'active';
  const statusFor = (validTo: string | null) =>
    inactive ? 'revoked' : validTo !== null && validTo < opts.asOf ? 'expired' : 'valid';
  const years = (from: string, n: number) =>
    formatDay(addYears(Number(from.slice(0, 4)), Number(from.slice(5, 7)), Number(from.slice(8, 10)), n));
  let k = 0;
  const next = () => serialNo * 16 + k++;
  const code = ind.code;
  const permit = (type: string, title: string, number: string, validYears: number, authority: string) => {
    const validFrom = established;
    const validTo = years(validFrom, validYears);
    out.push({
      kind: 'permit',
      number,
      type,
      title,
      status: statusFor(validTo),
      validFrom,
      validTo,
      issuingAuthority: authority,
    });
  };
  if ((code.startsWith('H62') || code === 'F5212' || code === 'F5121') && r.chance(0.8)) {
    permit(
      'food_business',
      '食品经营许可证',
      `JY${input.divisionCode.startsWith('4') ? 1 : 2}${input.divisionCode}${String(next()).padStart(7, '0')}`,
      5,
      `${place.prefix}市场监督管理局`,
    );
  }
  if (code.startsWith('E') && r.chance(0.7)) {
    permit(
      'construction',
      '建筑业企业资质证书',
      `D${String(next()).padStart(9, '0')}`,
      5,
      `${place.prefix.slice(0, 3)}住房和城乡建设厅`,
    );
  }
  if (code.startsWith('I64') && r.chance(0.5)) {
    permit(
      'value_added_telecom',
      '增值电信业务经营许可证',
      `B2-${estYear}${String(next()).padStart(4, '0')}`,
      5,
      '工业和信息化部',
    );
  }
  if (code === 'Q8411' && r.chance(0.9)) {
    permit(
      'medical_institution',
      '医疗机构执业许可证',
      `PDY${String(next()).padStart(8, '0')}`,
      5,
      `${place.prefix}卫生健康局`,
    );
  }
  if (code === 'G5411' && r.chance(0.7)) {
    permit(
      'road_transport',
      '道路运输经营许可证',
      `${input.divisionCode}${String(next()).padStart(6, '0')}`,
      4,
      `${place.prefix}交通运输局`,
    );
  }
  if (!company) return out;
  if (r.chance(0.1)) {
    const validFrom = formatDay(Math.min(opts.asOfDay, daysFromCivil(estYear + 1, 3, 1)));
    const validTo = years(validFrom, 3);
    out.push({
      kind: 'certification',
      number: `00${String(estYear).slice(2)}Q${String(next()).padStart(5, '0')}R0M`,
      type: 'ISO 9001',
      title: '质量管理体系认证',
      status: statusFor(validTo),
      validFrom,
      validTo,
      issuingAuthority: '中国质量认证中心',
    });
  }
  if (r.chance(0.08)) {
    for (let k = r.int(1, 3); k > 0; k--) {
      const validFrom = formatDay(Math.min(opts.asOfDay, daysFromCivil(estYear, 6, 1) + r.int(0, 2000)));
      const validTo = years(validFrom, 10);
      out.push({
        kind: 'trademark',
        number: String(10_000_000 + next()),
        type: `Nice class ${r.int(1, 45)}`,
        title: trade,
        status: statusFor(validTo),
        validFrom,
        validTo,
        issuingAuthority: '国家知识产权局',
      });
    }
  }
  if ((code.startsWith('C') || code.startsWith('I') || code.startsWith('M')) && r.chance(0.1)) {
    for (let k = r.int(1, 4); k > 0; k--) {
      const type = r.pick([1, 2, 2, 3] as const);
      const filed = Math.min(opts.asOfDay, daysFromCivil(Math.max(estYear, 1985), 1, 1) + r.int(0, 3000));
      const validFrom = formatDay(filed);
      const validTo = years(validFrom, type === 1 ? 20 : type === 2 ? 10 : 15);
      out.push({
        kind: 'patent',
        number: patentNumber(Number(validFrom.slice(0, 4)), type, next()),
        type: type === 1 ? 'invention' : type === 2 ? 'utility_model' : 'design',
        title: `一种${ind.word || '产品'}${r.pick(['装置', '方法', '系统', '结构'])}`,
        status: statusFor(validTo),
        validFrom,
        validTo,
        issuingAuthority: '国家知识产权局',
      });
    }
  }
  return out;
}

/** Turns a clean plan into one carrying the defect (listed in the manifest by the caller). */
function injectDefect(
  r: Rng,
  plan: Plan,
  defect: EntityDefectKind,
  place: Place,
  deceased: readonly PoolPerson[],
): void {
  plan.defect = defect;
  const input = plan.input;
  switch (defect) {
    case 'bad_uscc_check':
      input.uscc = badCheckCode(input.uscc);
      break;
    case 'legal_rep_missing':
      // Either no representative at all, or one whose ID number no person holds.
      input.legalRep = r.chance(0.5)
        ? null
        : {
            personId: null,
            idNumber: buildIdNumber(place.code, formatDay(r.int(-4000, 8000)), r.int(990, 999)),
            name: `${r.pick(['王', '李', '张', '刘', '陈'])}${r.pick(TRADE_NAME_CHARS)}${r.pick(TRADE_NAME_CHARS)}`,
          };
      break;
    case 'legal_rep_deceased': {
      const p = r.pick(deceased);
      input.legalRep = { personId: p.id, idNumber: p.idNumber, name: p.name };
      break;
    }
    case 'point_outside_division':
      // Tiananmen, or People's Square in Shanghai for Beijing entities: far outside the division.
      input.point = place.code.startsWith('11') ? [121.4737, 31.2304] : [116.3975, 39.9087];
      break;
    case 'shareholdings_over_100': {
      const p = plan.holders.find((h) => h.holder.kind === 'person')!;
      plan.holders.push({ holder: { ...p.holder }, percentage: Math.round(r.int(1000, 4000)) / 100 });
      break;
    }
  }
}

import type { Queryable } from '../db/index.ts';
import { sm3Hex } from './sm3.ts';

/**
 * Demo departments, purposes, grants and API keys for the embedded development database and the tests.
 * The keys are fixed so the README can show them; they are installed only when the database is embedded
 * and not in production mode.
 */

export const PURPOSES = [
  { code: 'social_assistance', name: '社会救助', legalBasis: '《社会救助暂行办法》' },
  { code: 'criminal_investigation', name: '刑事侦查', legalBasis: '《中华人民共和国刑事诉讼法》' },
  { code: 'identity_verification', name: '身份核验', legalBasis: '《中华人民共和国居民身份证法》' },
  { code: 'market_supervision', name: '市场监管', legalBasis: '《市场主体登记管理条例》' },
  { code: 'population_statistics', name: '人口统计', legalBasis: '《中华人民共和国统计法》' },
  { code: 'data_governance', name: '数据治理', legalBasis: '《政务信息资源共享管理暂行办法》' },
] as const;

const POPULATION = [
  'population.persons',
  'population.persons_history',
  'population.households',
  'population.households_history',
  'population.household_members',
  'population.residences',
  'population.vital_events',
];

/** The legal-entity registry's datasets, and the change log its feeds read. */
const LEGAL_ENTITY = [
  'legal_entity.entities',
  'legal_entity.entities_history',
  'legal_entity.former_names',
  'legal_entity.shareholdings',
  'legal_entity.qualifications',
  'legal_entity.online_shops',
  'governance.change_log',
];

/** Data disputes (raise and follow them, or resolve those routed to the department) and import batches. */
const DATA_UPDATES = ['governance.data_disputes', 'governance.import_batches'];

export interface DemoPrincipal {
  department: string;
  name: string;
  kind: string;
  adminLevel: 'national' | 'province' | 'city' | 'county';
  jurisdiction: string | null;
  key: string;
  roles: string[];
  grants: { datasets: string[]; maxLevel: number; purposes: string[]; canWrite?: boolean }[];
}

export const DEMO_PRINCIPALS = {
  countyCivilAffairs: {
    department: 'CA-110105',
    name: '北京市朝阳区民政局',
    kind: 'civil_affairs',
    adminLevel: 'county',
    jurisdiction: '110105',
    key: 'gbk_demo01_chaoyang-civil-affairs',
    roles: [],
    grants: [
      { datasets: POPULATION, maxLevel: 3, purposes: ['social_assistance'] },
      { datasets: LEGAL_ENTITY, maxLevel: 2, purposes: ['social_assistance'] },
      { datasets: DATA_UPDATES, maxLevel: 2, purposes: [] },
    ],
  },
  provincialMarketRegulation: {
    department: 'SAMR-440000',
    name: '广东省市场监督管理局',
    kind: 'market_regulation',
    adminLevel: 'province',
    jurisdiction: '440000',
    key: 'gbk_demo02_guangdong-market-regulation',
    roles: [],
    grants: [
      { datasets: ['population.persons'], maxLevel: 2, purposes: ['market_supervision'] },
      { datasets: LEGAL_ENTITY, maxLevel: 4, purposes: ['market_supervision'] },
      { datasets: DATA_UPDATES, maxLevel: 2, purposes: [] },
    ],
  },
  nationalPublicSecurity: {
    department: 'MPS',
    name: '公安部',
    kind: 'public_security',
    adminLevel: 'national',
    jurisdiction: null,
    key: 'gbk_demo03_national-public-security',
    roles: [],
    grants: [
      {
        datasets: POPULATION,
        maxLevel: 4,
        purposes: ['criminal_investigation', 'identity_verification'],
        canWrite: true,
      },
      { datasets: LEGAL_ENTITY, maxLevel: 3, purposes: ['criminal_investigation'] },
      { datasets: DATA_UPDATES, maxLevel: 2, purposes: [] },
    ],
  },
  platformSteward: {
    department: 'PLATFORM',
    name: '国家数据共享交换平台',
    kind: 'platform',
    adminLevel: 'national',
    jurisdiction: null,
    key: 'gbk_demo04_platform-data-steward',
    roles: ['steward'],
    grants: [
      { datasets: POPULATION, maxLevel: 4, purposes: ['data_governance'] },
      { datasets: LEGAL_ENTITY, maxLevel: 4, purposes: ['data_governance'] },
      { datasets: DATA_UPDATES, maxLevel: 2, purposes: [] },
      // Which batch and row produced each version of a record, and features as they were.
      { datasets: ['governance.import_lineage', 'spatial.features_history'], maxLevel: 2, purposes: [] },
    ],
  },
} satisfies Record<string, DemoPrincipal>;

/** Registers the demo principals (idempotent). Also the owners of datasets, so catalogue owners exist. */
export async function installDemoAccess(db: Queryable): Promise<void> {
  const owners = [
    { code: 'MCA', name: '民政部', kind: 'civil_affairs', level: 'national' },
    { code: 'SAMR', name: '国家市场监督管理总局', kind: 'market_regulation', level: 'national' },
    { code: 'MNR', name: '自然资源部', kind: 'natural_resources', level: 'national' },
  ];
  for (const o of owners) {
    await db.query(
      `INSERT INTO departments (code, name, kind, admin_level, jurisdiction_code, source_dept)
       VALUES ($1, $2, $3, $4, NULL, 'PLATFORM') ON CONFLICT (code) DO NOTHING`,
      [o.code, o.name, o.kind, o.level],
    );
  }
  for (const p of PURPOSES) {
    await db.query(
      'INSERT INTO purposes (code, name, legal_basis) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING',
      [p.code, p.name, p.legalBasis],
    );
  }
  for (const principal of Object.values(DEMO_PRINCIPALS) as DemoPrincipal[]) {
    await db.query(
      `INSERT INTO departments (code, name, kind, admin_level, jurisdiction_code, source_dept)
       VALUES ($1, $2, $3, $4, $5, 'PLATFORM') ON CONFLICT (code) DO NOTHING`,
      [principal.department, principal.name, principal.kind, principal.adminLevel, principal.jurisdiction],
    );
    const prefix = principal.key.slice(0, principal.key.lastIndexOf('_'));
    await db.query(
      `INSERT INTO api_keys (prefix, key_hash, department_code, application, roles)
       VALUES ($1, $2, $3, 'demo', $4) ON CONFLICT (prefix) DO NOTHING`,
      [prefix, sm3Hex(principal.key), principal.department, principal.roles],
    );
    const [existing] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM grants WHERE department_code = $1',
      [principal.department],
    );
    if ((existing?.n ?? 0) > 0) continue;
    for (const grant of principal.grants) {
      for (const dataset of grant.datasets) {
        await db.query(
          `INSERT INTO grants (department_code, dataset, max_level, purposes, can_write, granted_by)
           VALUES ($1, $2, $3, $4, $5, 'demo')`,
          [principal.department, dataset, grant.maxLevel, grant.purposes, grant.canWrite ?? false],
        );
      }
    }
  }
}

import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  date,
  index,
  integer,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { authoritative, dataset, type FieldEntry, f } from './catalogue.ts';
import { provenanceColumns, provenanceFields } from './provenance.ts';

/**
 * The legal-entity base registry (法人单位基础信息库): market entities and other legal persons keyed by
 * their unified social credit code (GB 32100), with organisation structure, equity, qualifications and
 * online business operators.
 */

/** Simplified legal forms: the registration department and category (USCC positions 1–2) say who
 * registered the entity; the legal form says what it is. */
export const LEGAL_FORMS = [
  'limited_liability_company', // 有限责任公司
  'joint_stock_company', // 股份有限公司
  'sole_proprietorship', // 个人独资企业
  'partnership', // 合伙企业
  'branch', // 分公司 / 分支机构
  'individual_business', // 个体工商户
  'farmer_cooperative', // 农民专业合作社
  'state_organ', // 机关
  'public_institution', // 事业单位
  'social_organisation', // 社会团体
  'private_non_enterprise', // 民办非企业单位
  'foundation', // 基金会
  'other',
] as const;

/** 存续 (active), 吊销 (licence revoked), 注销 (cancelled), 迁出 (moved to another registration authority). */
export const ENTITY_STATUSES = ['active', 'revoked', 'cancelled', 'moved_out'] as const;

/** valid; pilot_exception: final check right, embedded GB 11714 code check wrong (early pilot codes,
 * legally valid, flagged); invalid: the final check fails (a defect held from a legacy source). */
export const USCC_STATUSES = ['valid', 'pilot_exception', 'invalid'] as const;

/** Total-asset bands in yuan, reported without the figure itself. */
export const ASSET_BANDS = ['under_1m', '1m_10m', '10m_100m', '100m_1b', 'over_1b'] as const;

const entityColumns = (history: boolean) => ({
  id: history ? bigint('id', { mode: 'number' }).notNull() : bigserial('id', { mode: 'number' }).primaryKey(),
  uscc: text('uscc').notNull(),
  usccStatus: text('uscc_status', { enum: USCC_STATUSES }).notNull(),
  name: text('name').notNull(),
  /** USCC position 1: registration department (GB 32100 table 1). */
  registrationDept: text('registration_dept').notNull(),
  /** USCC position 2: organisation category within the department. */
  category: text('category').notNull(),
  legalForm: text('legal_form', { enum: LEGAL_FORMS }).notNull(),
  /** The legal representative (or operator, for individual businesses) as a person of the population registry. */
  legalRepPersonId: bigint('legal_rep_person_id', { mode: 'number' }),
  legalRepName: text('legal_rep_name'),
  /** SM4 ciphertext (src/crypto/at-rest.ts); joins persons on its blind index. */
  legalRepIdNumber: text('legal_rep_id_number'),
  legalRepIdNumberBidx: text('legal_rep_id_number_bidx'),
  registeredCapital: numeric('registered_capital', { precision: 20, scale: 2 }),
  /** ISO 4217. */
  capitalCurrency: text('capital_currency').notNull().default('CNY'),
  establishedOn: date('established_on').notNull(),
  status: text('status', { enum: ENTITY_STATUSES }).notNull().default('active'),
  /** The date the current status took effect (establishment for active entities). */
  statusDate: date('status_date'),
  businessScope: text('business_scope'),
  /** GB/T 4754-2017 class, section letter + code, e.g. I6513. */
  industryCode: text('industry_code'),
  /** Registered division (住所所在地), GB/T 2260. */
  divisionCode: text('division_code').notNull(),
  address: text('address'),
  point: geometry('point', 'Point'),
  registrationAuthority: text('registration_authority').notNull(),
  /** Head office of a branch, or the unit above a subordinate unit. */
  parentEntityId: bigint('parent_entity_id', { mode: 'number' }),
  parentRelation: text('parent_relation', { enum: ['branch', 'subordinate'] }),
  assetBand: text('asset_band', { enum: ASSET_BANDS }),
  totalAssets: numeric('total_assets', { precision: 20, scale: 2 }),
  annualRevenue: numeric('annual_revenue', { precision: 20, scale: 2 }),
  version: integer('version').notNull().default(1),
  validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
  ...provenanceColumns(),
});

export const entities = pgTable('entities', entityColumns(false), (t) => [
  uniqueIndex('entities_uscc_key').on(t.uscc),
  index('entities_division_idx').on(t.divisionCode, t.id),
  index('entities_industry_idx').on(t.industryCode),
  index('entities_established_idx').on(t.establishedOn),
  index('entities_legal_rep_idx').on(t.legalRepPersonId),
  index('entities_legal_rep_id_bidx_idx').on(t.legalRepIdNumberBidx),
  index('entities_parent_idx').on(t.parentEntityId),
  index('entities_name_trgm').using('gin', t.name.op('gin_trgm_ops')),
  index('entities_point_gix').using('gist', t.point),
]);

/** Every superseded version of an entity, written by a trigger on update and delete. */
export const entitiesHistory = pgTable(
  'entities_history',
  { ...entityColumns(true), supersededAt: timestamp('superseded_at', { withTimezone: true }).notNull() },
  (t) => [index('entities_history_id_idx').on(t.id, t.validFrom)],
);

/** Names an entity was registered under before (曾用名). */
export const entityFormerNames = pgTable(
  'entity_former_names',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entityId: bigint('entity_id', { mode: 'number' }).notNull(),
    name: text('name').notNull(),
    validFrom: date('valid_from'),
    validTo: date('valid_to').notNull(),
    ...provenanceColumns(),
  },
  (t) => [
    index('entity_former_names_entity_idx').on(t.entityId),
    index('entity_former_names_trgm').using('gin', t.name.op('gin_trgm_ops')),
  ],
);

export const SHAREHOLDER_KINDS = ['person', 'entity', 'other'] as const;

/**
 * Equity: who holds what share of an entity. The shareholder is a natural person of the population
 * registry, an entity of this registry, or another holder known only by name (a state assets
 * commission, a foreign investor). Ownership is a graph with long chains and cycles.
 */
export const shareholdings = pgTable(
  'shareholdings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The entity whose shares are held. */
    entityId: bigint('entity_id', { mode: 'number' }).notNull(),
    shareholderKind: text('shareholder_kind', { enum: SHAREHOLDER_KINDS }).notNull(),
    shareholderPersonId: bigint('shareholder_person_id', { mode: 'number' }),
    shareholderEntityId: bigint('shareholder_entity_id', { mode: 'number' }),
    shareholderName: text('shareholder_name').notNull(),
    /** Natural persons only: the ID number as registered. */
    shareholderIdNumber: text('shareholder_id_number'),
    shareholderIdNumberBidx: text('shareholder_id_number_bidx'),
    /** Subscribed capital contribution (认缴出资额). */
    subscribedAmount: numeric('subscribed_amount', { precision: 20, scale: 2 }),
    currency: text('currency').notNull().default('CNY'),
    /** Share of the registered capital in percent, (0, 100]. */
    percentage: numeric('percentage', { precision: 9, scale: 6 }).notNull(),
    acquiredOn: date('acquired_on').notNull(),
    /** Null while the holding is current. */
    endedOn: date('ended_on'),
    ...provenanceColumns(),
  },
  (t) => [
    index('shareholdings_entity_idx').on(t.entityId),
    index('shareholdings_holder_entity_idx').on(t.shareholderEntityId),
    index('shareholdings_holder_person_idx').on(t.shareholderPersonId),
    index('shareholdings_holder_id_bidx_idx').on(t.shareholderIdNumberBidx),
    check('shareholdings_percentage_range', sql`percentage > 0 AND percentage <= 100`),
    check(
      'shareholdings_holder_kind',
      sql`(shareholder_kind = 'entity') = (shareholder_entity_id IS NOT NULL)
          AND (shareholder_kind <> 'person' OR shareholder_entity_id IS NULL)
          AND (shareholder_kind = 'person' OR shareholder_person_id IS NULL)`,
    ),
  ],
);

export const QUALIFICATION_KINDS = ['permit', 'certification', 'trademark', 'patent'] as const;
export const QUALIFICATION_STATUSES = ['valid', 'expired', 'revoked', 'suspended', 'pending'] as const;

/** Administrative permits and access licences, certifications, trademarks and patents of an entity. */
export const qualifications = pgTable(
  'qualifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    entityId: bigint('entity_id', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: QUALIFICATION_KINDS }).notNull(),
    number: text('number').notNull(),
    /** Permit type, certification scheme, trademark Nice class or patent type. */
    type: text('type').notNull(),
    /** Trademark, invention title or permitted activity. */
    title: text('title'),
    status: text('status', { enum: QUALIFICATION_STATUSES }).notNull(),
    validFrom: date('valid_from'),
    validTo: date('valid_to'),
    issuingAuthority: text('issuing_authority').notNull(),
    ...provenanceColumns(),
  },
  (t) => [
    index('qualifications_entity_idx').on(t.entityId),
    uniqueIndex('qualifications_number_key').on(t.kind, t.number),
  ],
);

export const ONLINE_SHOP_STATUSES = ['active', 'suspended', 'closed'] as const;

/** Online business operators (网络经营主体): a shop on a platform, run by a person or an entity. */
export const onlineShops = pgTable(
  'online_shops',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    platform: text('platform').notNull(),
    shopName: text('shop_name').notNull(),
    shopUrl: text('shop_url').notNull(),
    operatorKind: text('operator_kind', { enum: ['person', 'entity'] }).notNull(),
    operatorEntityId: bigint('operator_entity_id', { mode: 'number' }),
    operatorPersonId: bigint('operator_person_id', { mode: 'number' }),
    operatorName: text('operator_name').notNull(),
    /** Division of the operator's registered or declared business address. */
    divisionCode: text('division_code').notNull(),
    status: text('status', { enum: ONLINE_SHOP_STATUSES }).notNull(),
    openedOn: date('opened_on'),
    closedOn: date('closed_on'),
    ...provenanceColumns(),
  },
  (t) => [
    uniqueIndex('online_shops_url_key').on(t.platform, t.shopUrl),
    index('online_shops_entity_idx').on(t.operatorEntityId),
    index('online_shops_person_idx').on(t.operatorPersonId),
    index('online_shops_division_idx').on(t.divisionCode),
  ],
);

const entityFields = {
  id: f.internal('Internal record key'),
  uscc: f.publicOpen('Unified social credit code (GB 32100)'),
  usccStatus: f.internal('valid, pilot_exception (embedded organisation-code check fails) or invalid'),
  name: f.publicOpen('Registered name'),
  registrationDept: f.publicOpen('Registration department code (USCC position 1)'),
  category: f.publicOpen('Organisation category code (USCC position 2)'),
  legalForm: f.publicOpen('Legal form'),
  legalRepPersonId: f.restricted('The legal representative as a person of the population registry'),
  legalRepName: f.publicOpen('Name of the legal representative (publicised by law)'),
  legalRepIdNumber: f.encrypted(
    f.sensitive("Legal representative's citizen ID number", 'idNumber'),
    'citizenId',
  ),
  legalRepIdNumberBidx: f.blindIndex("the legal representative's ID number"),
  registeredCapital: f.publicOpen('Registered capital'),
  capitalCurrency: f.publicOpen('Currency of the registered capital (ISO 4217)'),
  establishedOn: f.publicOpen('Date of establishment'),
  status: f.publicOpen('active, revoked, cancelled or moved_out'),
  statusDate: f.publicOpen('Date the current status took effect'),
  businessScope: f.publicOpen('Business scope'),
  industryCode: f.publicOpen('Industry (GB/T 4754-2017 class)'),
  divisionCode: f.publicOpen('Registered division (GB/T 2260)'),
  address: f.publicOpen('Registered address (住所)'),
  point: f.internal('Geocoded registered address, CGCS2000'),
  registrationAuthority: f.publicOpen('Registration authority'),
  parentEntityId: f.publicOpen('Head office of a branch, or the unit above a subordinate unit'),
  parentRelation: f.publicOpen('branch or subordinate'),
  assetBand: f.internal('Band of total assets'),
  totalAssets: f.restricted('Total assets (trade secret)', 'none', 'conditional'),
  annualRevenue: f.restricted('Annual operating revenue (trade secret)', 'none', 'conditional'),
  version: f.meta('Version number, incremented on every change'),
  validFrom: f.meta('When this version became current'),
  ...provenanceFields,
} satisfies Record<string, FieldEntry>;

const legalEntity = { registry: 'legal-entity', owner: 'SAMR', updateFrequency: 'realtime' } as const;

export const entitiesDataset = dataset(
  entities,
  {
    ...legalEntity,
    id: 'legal_entity.entities',
    name: '法人单位基础信息 Legal entities',
    description: 'Market entities and other legal persons keyed by USCC: registration, status, address',
  },
  // Conflict policy: what registration records (name, form, representative, capital, status) is market
  // regulation's; address geocoding, industry and asset figures may come from other departments.
  authoritative(entityFields, 'market_regulation', [
    'name',
    'legalForm',
    'legalRepPersonId',
    'legalRepName',
    'legalRepIdNumber',
    'registeredCapital',
    'capitalCurrency',
    'establishedOn',
    'status',
    'statusDate',
    'registrationAuthority',
  ]),
  {
    registrationDeptName: f.publicOpen('Name of the registration department (GB 32100 table 1)'),
    categoryName: f.publicOpen('Name of the organisation category (GB 32100 table 1)'),
    aggregate: f.publicOpen('Counts aggregated over entities'),
  },
);

export const entitiesHistoryDataset = dataset(
  entitiesHistory,
  {
    ...legalEntity,
    id: 'legal_entity.entities_history',
    name: '法人单位历史 Entity versions',
    description: 'Superseded versions of entity records',
  },
  { ...entityFields, supersededAt: f.meta('When this version was replaced') },
);

export const entityFormerNamesDataset = dataset(
  entityFormerNames,
  {
    ...legalEntity,
    id: 'legal_entity.former_names',
    name: '曾用名 Former names',
    description: 'Names an entity was registered under before',
  },
  {
    id: f.internal('Internal record key'),
    entityId: f.internal('Entity'),
    name: f.publicOpen('Former name'),
    validFrom: f.publicOpen('Used from'),
    validTo: f.publicOpen('Used until'),
    ...provenanceFields,
  },
);

export const shareholdingsDataset = dataset(
  shareholdings,
  {
    ...legalEntity,
    id: 'legal_entity.shareholdings',
    name: '股权出资 Shareholdings',
    description: 'Shareholders of entities: persons, entities or other holders, with amount and share',
  },
  {
    id: f.internal('Internal record key'),
    entityId: f.publicOpen('The entity whose shares are held'),
    shareholderKind: f.publicOpen('person, entity or other'),
    shareholderPersonId: f.restricted('The shareholder as a person of the population registry'),
    shareholderEntityId: f.publicOpen('The shareholder as an entity of this registry'),
    shareholderName: f.publicOpen('Shareholder name as registered (publicised by law)'),
    shareholderIdNumber: f.encrypted(
      f.sensitive("Natural-person shareholder's citizen ID number", 'idNumber'),
      'citizenId',
    ),
    shareholderIdNumberBidx: f.blindIndex("the shareholder's ID number"),
    subscribedAmount: f.publicOpen('Subscribed capital contribution'),
    currency: f.publicOpen('Currency of the contribution (ISO 4217)'),
    percentage: f.publicOpen('Share of the registered capital, percent'),
    acquiredOn: f.publicOpen('Date the holding was acquired'),
    endedOn: f.publicOpen('Date the holding ended'),
    ...provenanceFields,
  },
  {
    beneficialOwnership: f.restricted(
      'Effective ownership computed along ownership chains (beneficial owners, control chains); not publicised',
    ),
    relatedEntities: f.internal('The ownership neighbourhood of an entity'),
  },
);

export const qualificationsDataset = dataset(
  qualifications,
  {
    ...legalEntity,
    id: 'legal_entity.qualifications',
    name: '资质许可 Qualifications',
    description: 'Administrative permits and licences, certifications, trademarks and patents',
  },
  {
    id: f.internal('Internal record key'),
    entityId: f.publicOpen('Holder'),
    kind: f.publicOpen('permit, certification, trademark or patent'),
    number: f.publicOpen('Permit, certificate, registration or patent number'),
    type: f.publicOpen('Type'),
    title: f.publicOpen('Trademark, invention title or permitted activity'),
    status: f.publicOpen('valid, expired, revoked, suspended or pending'),
    validFrom: f.publicOpen('Valid from'),
    validTo: f.publicOpen('Valid to'),
    issuingAuthority: f.publicOpen('Issuing authority'),
    ...provenanceFields,
  },
);

export const onlineShopsDataset = dataset(
  onlineShops,
  {
    ...legalEntity,
    id: 'legal_entity.online_shops',
    name: '网络经营主体 Online business operators',
    description: 'Shops on e-commerce platforms and their operators',
  },
  {
    id: f.internal('Internal record key'),
    platform: f.publicOpen('E-commerce platform'),
    shopName: f.publicOpen('Shop name'),
    shopUrl: f.publicOpen('Shop URL'),
    operatorKind: f.publicOpen('person or entity'),
    operatorEntityId: f.publicOpen('The operating entity'),
    operatorPersonId: f.restricted('The operating natural person'),
    operatorName: f.restricted('Operator name (a natural person for individual operators)', 'name'),
    divisionCode: f.internal('Division of the business address'),
    status: f.publicOpen('active, suspended or closed'),
    openedOn: f.publicOpen('Opened'),
    closedOn: f.publicOpen('Closed'),
    ...provenanceFields,
  },
);

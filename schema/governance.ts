import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { dataset, f } from './catalogue.ts';
import { provenanceColumns, provenanceFields } from './provenance.ts';

/** A department that consumes or supplies base data; its jurisdiction is a division subtree. */
export const departments = pgTable('departments', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  /** civil_affairs, public_security, market_regulation, natural_resources, statistics, platform, … */
  kind: text('kind').notNull(),
  adminLevel: text('admin_level', { enum: ['national', 'province', 'city', 'county'] }).notNull(),
  /** Division code whose subtree the department serves; null for national departments. */
  jurisdictionCode: text('jurisdiction_code'),
  ...provenanceColumns(),
});

/** Declared purposes that grants can approve for conditional data (the sharing-responsibility list). */
export const purposes = pgTable('purposes', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  legalBasis: text('legal_basis').notNull(),
});

/** API keys of departmental applications. Only a hash is kept; the prefix identifies the key in logs. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    prefix: text('prefix').notNull().unique(),
    keyHash: text('key_hash').notNull(),
    departmentCode: text('department_code').notNull(),
    application: text('application').notNull(),
    roles: text('roles').array().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_department_idx').on(t.departmentCode)],
);

/** What a department may read of a dataset: up to a level, and conditional data for listed purposes. */
export const grants = pgTable(
  'grants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    departmentCode: text('department_code').notNull(),
    dataset: text('dataset').notNull(),
    maxLevel: integer('max_level').notNull(),
    purposes: text('purposes').array().notNull().default([]),
    canWrite: boolean('can_write').notNull().default(false),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
    validTo: timestamp('valid_to', { withTimezone: true }),
    grantedBy: text('granted_by').notNull(),
  },
  (t) => [index('grants_department_idx').on(t.departmentCode, t.dataset)],
);

/** Append-only access audit; each record carries the SM3 hash of its predecessor's hash and its own content. */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull(),
    principal: text('principal').notNull(),
    departmentCode: text('department_code'),
    purpose: text('purpose'),
    channel: text('channel').notNull(),
    operation: text('operation'),
    documentHash: text('document_hash'),
    fields: jsonb('fields').notNull(),
    rowCounts: jsonb('row_counts').notNull(),
    subjects: text('subjects').array().notNull(),
    outcome: text('outcome').notNull(),
    /** Subscriptions only: the root field's arguments at set-up; { subscription, event } on each delivered event. */
    arguments: jsonb('arguments'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_log_subjects_gin').using('gin', t.subjects), index('audit_log_at_idx').on(t.at)],
);

const governance = { registry: 'governance', owner: 'PLATFORM', updateFrequency: 'realtime' } as const;

export const departmentsDataset = dataset(
  departments,
  {
    ...governance,
    id: 'governance.departments',
    name: '部门 Departments',
    description: 'Departments and jurisdictions',
  },
  {
    code: f.internal('Department code'),
    name: f.internal('Department name'),
    kind: f.internal('Line of business'),
    adminLevel: f.internal('Administrative level'),
    jurisdictionCode: f.internal('Division subtree served'),
    ...provenanceFields,
  },
);

export const purposesDataset = dataset(
  purposes,
  { ...governance, id: 'governance.purposes', name: '用途 Purposes', description: 'Declarable purposes' },
  {
    code: f.internal('Purpose code, sent in the X-Purpose header'),
    name: f.internal('Purpose'),
    legalBasis: f.internal('Legal basis for processing'),
  },
);

export const apiKeysDataset = dataset(
  apiKeys,
  {
    ...governance,
    id: 'governance.api_keys',
    name: 'API 密钥 API keys',
    description: 'Application credentials',
  },
  {
    id: f.closed('Key id'),
    prefix: f.closed('Public prefix of the key'),
    keyHash: f.closed('SM3 hash of the key'),
    departmentCode: f.closed('Owning department'),
    application: f.closed('Application name'),
    roles: f.closed('Roles'),
    createdAt: f.closed('Created'),
    expiresAt: f.closed('Expires'),
    revokedAt: f.closed('Revoked'),
  },
);

export const grantsDataset = dataset(
  grants,
  { ...governance, id: 'governance.grants', name: '授权 Grants', description: 'Sharing grants per dataset' },
  {
    id: f.closed('Grant id'),
    departmentCode: f.closed('Grantee'),
    dataset: f.closed('Dataset id'),
    maxLevel: f.closed('Highest level readable'),
    purposes: f.closed('Approved purposes for conditional data'),
    canWrite: f.closed('May submit corrections'),
    validFrom: f.closed('Valid from'),
    validTo: f.closed('Valid to'),
    grantedBy: f.closed('Who granted it'),
  },
);

export const auditLogDataset = dataset(
  auditLog,
  {
    ...governance,
    id: 'governance.audit_log',
    name: '访问审计 Access audit',
    description: 'Tamper-evident read log',
  },
  {
    seq: f.closed('Sequence number'),
    at: f.closed('Time'),
    principal: f.closed('Principal'),
    departmentCode: f.closed('Department'),
    purpose: f.closed('Declared purpose'),
    channel: f.closed('graphql, ogc, tiles or export'),
    operation: f.closed('Operation name'),
    documentHash: f.closed('SM3 of the query document'),
    fields: f.closed('Field decisions'),
    rowCounts: f.closed('Rows returned per type'),
    arguments: f.closed('Subscription arguments (set-up) or subscription seq and event number'),
    subjects: f.closed('Keys of the persons whose sensitive data was read'),
    outcome: f.closed('ok or error'),
    prevHash: f.closed('Hash of the previous record'),
    hash: f.closed('SM3 chain hash'),
  },
);

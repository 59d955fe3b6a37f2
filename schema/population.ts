import {
  bigint,
  bigserial,
  date,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { geometry } from '../src/db/geometry-column.ts';
import { authoritative, dataset, type FieldEntry, f } from './catalogue.ts';
import { provenanceColumns, provenanceFields } from './provenance.ts';

/** Columns shared by persons and persons_history, so a history row is the person row as it was. */
const personColumns = (history: boolean) => ({
  id: history ? bigint('id', { mode: 'number' }).notNull() : bigserial('id', { mode: 'number' }).primaryKey(),
  /** SM4 ciphertext (src/crypto/at-rest.ts); looked up by its blind index. */
  idNumber: text('id_number').notNull(),
  idNumberBidx: text('id_number_bidx'),
  name: text('name').notNull(),
  /** GB/T 2261.1: 1 male, 2 female. */
  gender: text('gender', { enum: ['1', '2'] }).notNull(),
  birthDate: date('birth_date').notNull(),
  /** GB/T 3304 two-digit code. */
  ethnicity: text('ethnicity'),
  /** GB/T 2659 alpha-3. */
  nationality: text('nationality').notNull().default('CHN'),
  hukouDivisionCode: text('hukou_division_code').notNull(),
  hukouAddress: text('hukou_address'),
  hukouAddressBidx: text('hukou_address_bidx'),
  residenceDivisionCode: text('residence_division_code'),
  residenceAddress: text('residence_address'),
  residenceAddressBidx: text('residence_address_bidx'),
  residencePoint: geometry('residence_point', 'Point'),
  /** GB/T 2261.2. */
  maritalStatus: text('marital_status'),
  /** GB/T 4658. */
  education: text('education'),
  phone: text('phone'),
  phoneBidx: text('phone_bidx'),
  status: text('status', { enum: ['alive', 'deceased'] })
    .notNull()
    .default('alive'),
  deathDate: date('death_date'),
  householdId: bigint('household_id', { mode: 'number' }),
  version: integer('version').notNull().default(1),
  validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
  ...provenanceColumns(),
});

export const persons = pgTable('persons', personColumns(false), (t) => [
  uniqueIndex('persons_id_number_bidx_key').on(t.idNumberBidx),
  index('persons_residence_division_idx').on(t.residenceDivisionCode),
  index('persons_hukou_division_idx').on(t.hukouDivisionCode),
  index('persons_household_idx').on(t.householdId),
  index('persons_residence_point_gix').using('gist', t.residencePoint),
]);

/** Every superseded version of a person, written by a trigger on update and delete. */
export const personsHistory = pgTable(
  'persons_history',
  { ...personColumns(true), supersededAt: timestamp('superseded_at', { withTimezone: true }).notNull() },
  (t) => [index('persons_history_id_idx').on(t.id, t.validFrom)],
);

/** Columns shared by households and households_history, so a history row is the household as it was. */
const householdColumns = (history: boolean) => ({
  id: history ? bigint('id', { mode: 'number' }).notNull() : bigserial('id', { mode: 'number' }).primaryKey(),
  householdNumber: text('household_number').notNull(),
  type: text('type', { enum: ['family', 'collective'] }).notNull(),
  headPersonId: bigint('head_person_id', { mode: 'number' }),
  divisionCode: text('division_code').notNull(),
  address: text('address'),
  addressBidx: text('address_bidx'),
  version: integer('version').notNull().default(1),
  validFrom: timestamp('valid_from', { withTimezone: true }).notNull().defaultNow(),
  ...provenanceColumns(),
});

export const households = pgTable('households', householdColumns(false), (t) => [
  uniqueIndex('households_number_key').on(t.householdNumber),
  index('households_division_idx').on(t.divisionCode),
]);

/** Every superseded version of a household, written by a trigger on update and delete. */
export const householdsHistory = pgTable(
  'households_history',
  { ...householdColumns(true), supersededAt: timestamp('superseded_at', { withTimezone: true }).notNull() },
  (t) => [index('households_history_id_idx').on(t.id, t.validFrom)],
);

export const householdMembers = pgTable(
  'household_members',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    householdId: bigint('household_id', { mode: 'number' }).notNull(),
    personId: bigint('person_id', { mode: 'number' }).notNull(),
    /** GB/T 4761 relation to the head of household. */
    relation: text('relation').notNull(),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    ...provenanceColumns(),
  },
  (t) => [
    index('household_members_household_idx').on(t.householdId),
    index('household_members_person_idx').on(t.personId),
  ],
);

export const residences = pgTable(
  'residences',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    personId: bigint('person_id', { mode: 'number' }).notNull(),
    divisionCode: text('division_code').notNull(),
    address: text('address'),
    addressBidx: text('address_bidx'),
    point: geometry('point', 'Point'),
    validFrom: date('valid_from').notNull(),
    validTo: date('valid_to'),
    ...provenanceColumns(),
  },
  (t) => [index('residences_person_idx').on(t.personId, t.validFrom)],
);

export const VITAL_EVENT_TYPES = ['birth', 'death', 'move_in', 'move_out', 'marriage'] as const;

export const vitalEvents = pgTable(
  'vital_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    personId: bigint('person_id', { mode: 'number' }).notNull(),
    type: text('type', { enum: VITAL_EVENT_TYPES }).notNull(),
    eventDate: date('event_date').notNull(),
    divisionCode: text('division_code').notNull(),
    ...provenanceColumns(),
  },
  (t) => [
    index('vital_events_person_idx').on(t.personId, t.eventDate),
    index('vital_events_division_date_idx').on(t.divisionCode, t.eventDate),
  ],
);

const personFields = {
  id: f.internal('Internal record key'),
  idNumber: f.encrypted(f.sensitive('Citizen identity number (GB 11643)', 'idNumber'), 'citizenId'),
  idNumberBidx: f.blindIndex('the ID number'),
  name: f.restricted('Name', 'name'),
  gender: f.internal('Gender (GB/T 2261.1)'),
  birthDate: f.restricted('Date of birth', 'date'),
  ethnicity: f.restricted('Ethnic group (GB/T 3304)'),
  nationality: f.internal('Nationality (GB/T 2659)'),
  hukouDivisionCode: f.internal('Division of household registration (户籍地)'),
  hukouAddress: f.encrypted(f.restricted('Address of household registration', 'address'), 'address'),
  hukouAddressBidx: f.blindIndex('the hukou address'),
  residenceDivisionCode: f.internal('Division of residence (居住地)'),
  residenceAddress: f.encrypted(f.sensitive('Precise residence address', 'address'), 'address'),
  residenceAddressBidx: f.blindIndex('the residence address'),
  residencePoint: f.sensitive('Residence location, CGCS2000', 'point'),
  maritalStatus: f.restricted('Marital status (GB/T 2261.2)'),
  education: f.restricted('Education (GB/T 4658)'),
  phone: f.encrypted(f.sensitive('Mobile phone number', 'phone'), 'phone'),
  phoneBidx: f.blindIndex('the phone number'),
  status: f.internal('alive or deceased'),
  deathDate: f.restricted('Date of death'),
  householdId: f.internal('Household the person is registered in'),
  version: f.meta('Version number, incremented on every change'),
  validFrom: f.meta('When this version became current'),
  ...provenanceFields,
} satisfies Record<string, FieldEntry>;

export const personsDataset = dataset(
  persons,
  {
    id: 'population.persons',
    name: '人口基础信息 Persons',
    description: 'Natural persons: identity, registration, residence, status',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  // Conflict policy: identity and registration are public security's (户籍); residence, contact, education
  // and marital status may be updated by any department with a write grant.
  authoritative(personFields, 'public_security', [
    'idNumber',
    'name',
    'gender',
    'birthDate',
    'ethnicity',
    'nationality',
    'hukouDivisionCode',
    'hukouAddress',
    'status',
    'deathDate',
  ]),
  {
    age: f.internal('Age in whole years, derived from the date of birth'),
    aggregate: f.publicOpen('Counts aggregated over persons; cells below the threshold are suppressed'),
  },
);

export const personsHistoryDataset = dataset(
  personsHistory,
  {
    id: 'population.persons_history',
    name: '人口信息历史 Person versions',
    description: 'Superseded versions of person records',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  { ...personFields, supersededAt: f.meta('When this version was replaced') },
);

// Conflict policy: household registration (户籍) is public security's.
const householdFields = authoritative(
  {
    id: f.internal('Internal record key'),
    householdNumber: f.restricted('Household number (户号)', 'redact'),
    type: f.internal('family or collective household'),
    headPersonId: f.internal('Head of household'),
    divisionCode: f.internal('Division of registration'),
    address: f.encrypted(f.restricted('Household address', 'address'), 'address'),
    addressBidx: f.blindIndex('the household address'),
    version: f.meta('Version number, incremented on every change'),
    validFrom: f.meta('When this version became current'),
    ...provenanceFields,
  },
  'public_security',
  ['type', 'headPersonId', 'divisionCode', 'address'],
);

export const householdsDataset = dataset(
  households,
  {
    id: 'population.households',
    name: '户籍户 Households',
    description: 'Registered households (户) with head and address',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  householdFields,
  { memberCount: f.internal('Number of current members') },
);

export const householdsHistoryDataset = dataset(
  householdsHistory,
  {
    id: 'population.households_history',
    name: '户籍户历史 Household versions',
    description: 'Superseded versions of household records',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  { ...householdFields, supersededAt: f.meta('When this version was replaced') },
);

export const householdMembersDataset = dataset(
  householdMembers,
  {
    id: 'population.household_members',
    name: '户成员 Household members',
    description: 'Membership of persons in households, with relation to the head',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Internal record key'),
    householdId: f.internal('Household'),
    personId: f.internal('Member'),
    relation: f.restricted('Relation to the head of household (GB/T 4761)'),
    validFrom: f.internal('Joined the household'),
    validTo: f.internal('Left the household'),
    ...provenanceFields,
  },
);

export const residencesDataset = dataset(
  residences,
  {
    id: 'population.residences',
    name: '居住地历史 Residence history',
    description: 'Where a person has lived, with dates',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Internal record key'),
    personId: f.internal('Person'),
    divisionCode: f.internal('Division of residence'),
    address: f.encrypted(f.sensitive('Precise residence address', 'address'), 'address'),
    addressBidx: f.blindIndex('the residence address'),
    point: f.sensitive('Residence location, CGCS2000', 'point'),
    validFrom: f.restricted('Moved in'),
    validTo: f.restricted('Moved out'),
    ...provenanceFields,
  },
);

export const vitalEventsDataset = dataset(
  vitalEvents,
  {
    id: 'population.vital_events',
    name: '人口变动事件 Vital events',
    description: 'Births, deaths, moves and marriages',
    registry: 'population',
    owner: 'MPS',
    updateFrequency: 'realtime',
  },
  {
    id: f.internal('Internal record key'),
    personId: f.internal('Person'),
    type: f.internal('birth, death, move_in, move_out or marriage'),
    eventDate: f.restricted('Date of the event', 'date'),
    divisionCode: f.internal('Division where the event was registered'),
    ...provenanceFields,
  },
  { aggregate: f.publicOpen('Monthly event counts; cells below the threshold are suppressed') },
);

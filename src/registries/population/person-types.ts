import {
  householdMembersDataset,
  householdsDataset,
  personsDataset,
  residencesDataset,
  vitalEventsDataset,
} from '../../../schema/population.ts';
import { builder } from '../../gateway/builder.ts';
import { divisionByCode } from '../spatial/division-directory.ts';
import { DivisionRef } from '../spatial/division-types.ts';
import {
  eventsByPerson,
  type HouseholdRow,
  householdById,
  type MemberRow,
  membersByHousehold,
  type ResidenceRow,
  residencesByPerson,
  type VitalEventRow,
} from './household-store.ts';
import { ageOn, type PersonRow, personById, today } from './person-store.ts';

export const Gender = builder.enumType('Gender', {
  description: 'GB/T 2261.1',
  values: { MALE: { value: '1' }, FEMALE: { value: '2' } } as const,
});

export const PersonStatus = builder.enumType('PersonStatus', {
  values: { ALIVE: { value: 'alive' }, DECEASED: { value: 'deceased' } } as const,
});

export const VitalEventType = builder.enumType('VitalEventType', {
  values: {
    BIRTH: { value: 'birth' },
    DEATH: { value: 'death' },
    MOVE_IN: { value: 'move_in' },
    MOVE_OUT: { value: 'move_out' },
    MARRIAGE: { value: 'marriage' },
  } as const,
});

export const HouseholdType = builder.enumType('HouseholdType', {
  values: { FAMILY: { value: 'family' }, COLLECTIVE: { value: 'collective' } } as const,
});

const personKey = (p: { id: number }) => `person:${p.id}`;

export const PersonRef = builder.objectRef<PersonRow>('Person');
export const HouseholdRef = builder.objectRef<HouseholdRow>('Household');
export const HouseholdMemberRef = builder.objectRef<MemberRow>('HouseholdMember');
export const ResidenceRef = builder.objectRef<ResidenceRow>('Residence');
export const VitalEventRef = builder.objectRef<VitalEventRow>('VitalEvent');

builder.node(PersonRef, {
  description: 'A natural person in the population base registry (人口基础信息库)',
  dataset: personsDataset,
  auditSubject: personKey,
  id: { resolve: (p) => p.id, parse: (id) => Number(id) },
  loadMany: async (ids, ctx) => {
    // Without a grant a global id reveals nothing, not even that the person exists.
    if (!ctx.access.canReadDataset(personsDataset)) return ids.map(() => null);
    const found = await personById(ctx).loadMany(ids);
    return found.map((p) => (p instanceof Error ? null : p));
  },
  fields: (t) => ({
    idNumber: t.exposeString('idNumber', { description: 'Citizen ID number (GB 11643)' }),
    name: t.exposeString('name'),
    gender: t.field({ type: Gender, resolve: (p) => p.gender }),
    birthDate: t.expose('birthDate', { type: 'Date' }),
    age: t.int({ description: 'Age in whole years today', resolve: (p) => ageOn(p.birthDate, today()) }),
    ethnicity: t.exposeString('ethnicity', { description: 'GB/T 3304 code' }),
    nationality: t.exposeString('nationality', { description: 'GB/T 2659 alpha-3' }),
    hukouDivisionCode: t.exposeString('hukouDivisionCode'),
    hukouDivision: t.field({
      type: DivisionRef,
      access: { field: 'hukouDivisionCode' },
      resolve: (p, _args, ctx) => divisionByCode(ctx).load(p.hukouDivisionCode),
    }),
    hukouAddress: t.exposeString('hukouAddress'),
    residenceDivisionCode: t.exposeString('residenceDivisionCode'),
    residenceDivision: t.field({
      type: DivisionRef,
      access: { field: 'residenceDivisionCode' },
      resolve: (p, _args, ctx) =>
        p.residenceDivisionCode ? divisionByCode(ctx).load(p.residenceDivisionCode) : null,
    }),
    residenceAddress: t.exposeString('residenceAddress'),
    residencePoint: t.expose('residencePoint', { type: 'GeoJSON' }),
    maritalStatus: t.exposeString('maritalStatus', { description: 'GB/T 2261.2 code' }),
    education: t.exposeString('education', { description: 'GB/T 4658 code' }),
    phone: t.exposeString('phone'),
    status: t.field({ type: PersonStatus, resolve: (p) => p.status }),
    deathDate: t.expose('deathDate', { type: 'Date' }),
    household: t.field({
      type: HouseholdRef,
      access: { field: 'householdId' },
      requiresDataset: householdsDataset,
      resolve: (p, _args, ctx) => (p.householdId ? householdById(ctx).load(Number(p.householdId)) : null),
    }),
    residences: t.field({
      type: [ResidenceRef],
      access: 'link',
      requiresDataset: residencesDataset,
      description: 'Residence history, oldest first',
      resolve: (p, _args, ctx) => residencesByPerson(ctx).load(Number(p.id)),
    }),
    events: t.field({
      type: [VitalEventRef],
      access: 'link',
      requiresDataset: vitalEventsDataset,
      resolve: (p, _args, ctx) => eventsByPerson(ctx).load(Number(p.id)),
    }),
    version: t.exposeInt('version'),
    validFrom: t.expose('validFrom', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch'),
  }),
});

HouseholdRef.implement({
  description: 'A registered household (户)',
  dataset: householdsDataset,
  fields: (t) => ({
    id: t.exposeID('id'),
    householdNumber: t.exposeString('householdNumber'),
    type: t.field({ type: HouseholdType, resolve: (h) => h.type }),
    head: t.field({
      type: PersonRef,
      access: { field: 'headPersonId' },
      requiresDataset: personsDataset,
      resolve: (h, _args, ctx) => (h.headPersonId ? personById(ctx).load(Number(h.headPersonId)) : null),
    }),
    divisionCode: t.exposeString('divisionCode'),
    division: t.field({
      type: DivisionRef,
      access: { field: 'divisionCode' },
      resolve: (h, _args, ctx) => divisionByCode(ctx).load(h.divisionCode),
    }),
    address: t.exposeString('address'),
    members: t.field({
      type: [HouseholdMemberRef],
      access: 'link',
      requiresDataset: householdMembersDataset,
      description: 'Current members',
      resolve: (h, _args, ctx) => membersByHousehold(ctx).load(Number(h.id)),
    }),
    memberCount: t.int({
      resolve: async (h, _args, ctx) => (await membersByHousehold(ctx).load(Number(h.id))).length,
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch'),
  }),
});

HouseholdMemberRef.implement({
  dataset: householdMembersDataset,
  fields: (t) => ({
    relation: t.exposeString('relation', { description: 'GB/T 4761 relation to the head' }),
    validFrom: t.expose('validFrom', { type: 'Date' }),
    validTo: t.expose('validTo', { type: 'Date' }),
    person: t.field({
      type: PersonRef,
      access: { field: 'personId' },
      requiresDataset: personsDataset,
      resolve: (m, _args, ctx) => personById(ctx).load(Number(m.personId)),
    }),
  }),
});

ResidenceRef.implement({
  dataset: residencesDataset,
  auditSubject: (r) => `person:${r.personId}`,
  fields: (t) => ({
    divisionCode: t.exposeString('divisionCode'),
    address: t.exposeString('address'),
    point: t.expose('point', { type: 'GeoJSON' }),
    validFrom: t.expose('validFrom', { type: 'Date' }),
    validTo: t.expose('validTo', { type: 'Date' }),
    sourceDept: t.exposeString('sourceDept'),
  }),
});

VitalEventRef.implement({
  dataset: vitalEventsDataset,
  fields: (t) => ({
    type: t.field({ type: VitalEventType, resolve: (e) => e.type as never }),
    eventDate: t.expose('eventDate', { type: 'Date' }),
    divisionCode: t.exposeString('divisionCode'),
    sourceDept: t.exposeString('sourceDept'),
  }),
});

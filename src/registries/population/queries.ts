import { type SQL, sql } from 'drizzle-orm';
import { householdsDataset, personsDataset, personsHistoryDataset } from '../../../schema/population.ts';
import { AttributeFilterInput, attributeConditions } from '../../attributes/filter.ts';
import { parseIdNumber } from '../../codes/index.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { TagFilter, tagConditions } from '../../tags/filter.ts';
import { requireDivision } from '../spatial/division-directory.ts';
import { personAsOf } from './history.ts';
import { householdByNumber } from './household-store.ts';
import {
  birthDateForAge,
  PERSON_COLUMNS,
  type PersonRow,
  personByIdNumber,
  personScope,
  today,
} from './person-store.ts';
import { Gender, HouseholdRef, PersonRef, PersonStatus } from './person-types.ts';

export const DivisionRole = builder.enumType('DivisionRole', {
  description: 'Which of a person’s divisions a query means',
  values: {
    RESIDENCE: { value: 'residence', description: '居住地' },
    HOUSEHOLD_REGISTRATION: { value: 'hukou', description: '户籍地' },
  } as const,
});

const PersonFilter = builder.inputType('PersonFilter', {
  fields: (t) => ({
    gender: t.field({ type: Gender }),
    ageMin: t.int({ description: 'Age today at least' }),
    ageMax: t.int({ description: 'Age today at most' }),
    birthDateFrom: t.field({ type: 'Date' }),
    birthDateTo: t.field({ type: 'Date' }),
    status: t.field({ type: PersonStatus }),
    ethnicity: t.string({ description: 'GB/T 3304 code' }),
  }),
});

/** Parses an ID number argument or throws INVALID_ID_NUMBER naming it. */
function requireIdNumber(value: string, argument: string): string {
  const parsed = parseIdNumber(value);
  if (!parsed.ok) throw errors.invalidIdNumber(argument, parsed.message);
  return parsed.value.idNumber;
}

builder.queryField('person', (t) =>
  t.field({
    type: PersonRef,
    description:
      'A person by citizen ID number. Needs the right to read ID numbers in clear. With `asOf`, the person as ' +
      'the registry recorded it at that instant (needs a grant on population.persons_history).',
    args: {
      idNumber: t.arg.string({ required: true }),
      asOf: t.arg({ type: 'DateTime', description: 'A past instant: the version current then' }),
    },
    requiresDataset: personsDataset,
    filters: { idNumber: { dataset: personsDataset, field: 'idNumber' } },
    resolve: async (_root, args, ctx) => {
      const idNumber = requireIdNumber(args.idNumber, 'idNumber');
      if (args.asOf) ctx.access.requireDataset(personsHistoryDataset);
      const person = args.asOf
        ? await personAsOf(ctx, idNumber, args.asOf)
        : await personByIdNumber(ctx).load(idNumber);
      if (!person) return null;
      if (
        !ctx.access.inScope(person.hukouDivisionCode) &&
        !ctx.access.inScope(person.residenceDivisionCode)
      ) {
        throw errors.outOfJurisdiction(`The person with ID number argument 'idNumber'`);
      }
      return person;
    },
  }),
);

builder.queryField('persons', (t) =>
  t.connection(
    {
      type: PersonRef,
      description: 'Persons in a division subtree, by residence (default) or household registration',
      args: {
        divisionCode: t.arg.string({ required: true }),
        by: t.arg({ type: DivisionRole, defaultValue: 'residence' }),
        filter: t.arg({ type: PersonFilter }),
        tags: t.arg({ type: TagFilter, description: 'By current tags (any / all / none)' }),
        attributeFilter: t.arg({
          type: [AttributeFilterInput],
          description: 'By current attribute values (fields on demand)',
        }),
      },
      requiresDataset: personsDataset,
      filters: {
        'filter.gender': { dataset: personsDataset, field: 'gender' },
        'filter.ageMin': { dataset: personsDataset, field: 'age' },
        'filter.ageMax': { dataset: personsDataset, field: 'age' },
        'filter.birthDateFrom': { dataset: personsDataset, field: 'birthDate' },
        'filter.birthDateTo': { dataset: personsDataset, field: 'birthDate' },
        'filter.status': { dataset: personsDataset, field: 'status' },
        'filter.ethnicity': { dataset: personsDataset, field: 'ethnicity' },
      },
      resolve: async (_root, args, ctx) => {
        const first = pageSize(args, ctx.config.maxPageSize);
        const afterId = args.after ? decodeCursor(args.after, 'after', 'p') : 0;
        const division = await requireDivision(ctx, args.divisionCode, 'divisionCode');
        const column = sql.raw(args.by === 'hukou' ? 'p.hukou_division_code' : 'p.residence_division_code');
        const hi = division.prefix + '9'.repeat(12 - division.prefix.length);
        const conditions: SQL[] = [
          sql`${column} BETWEEN ${division.prefix} AND ${hi}`,
          personScope(ctx.access.principal.scope),
        ];
        const f = args.filter;
        const day = today();
        if (f?.gender) conditions.push(sql`p.gender = ${f.gender}`);
        if (f?.status) conditions.push(sql`p.status = ${f.status}`);
        if (f?.ethnicity) conditions.push(sql`p.ethnicity = ${f.ethnicity}`);
        if (f?.birthDateFrom) conditions.push(sql`p.birth_date >= ${f.birthDateFrom}::date`);
        if (f?.birthDateTo) conditions.push(sql`p.birth_date <= ${f.birthDateTo}::date`);
        for (const [name, value] of [
          ['ageMin', f?.ageMin],
          ['ageMax', f?.ageMax],
        ] as const) {
          if (value !== null && value !== undefined && (value < 0 || value > 150)) {
            throw errors.invalidArgument(`filter.${name}`, 'must be from 0 to 150');
          }
        }
        if (f?.ageMin !== null && f?.ageMin !== undefined) {
          conditions.push(sql`p.birth_date <= ${birthDateForAge(f.ageMin, day)}::date`);
        }
        if (f?.ageMax !== null && f?.ageMax !== undefined) {
          conditions.push(sql`p.birth_date > ${birthDateForAge(f.ageMax + 1, day)}::date`);
        }
        conditions.push(...tagConditions(ctx.access, 'person', args.tags, 'p'));
        conditions.push(...(await attributeConditions(ctx, 'person', args.attributeFilter, 'p')));
        const where = sql.join(conditions, sql` AND `);
        const page = await rows<PersonRow>(
          ctx.db,
          sql`SELECT ${PERSON_COLUMNS} FROM persons p WHERE ${where} AND p.id > ${afterId}
              ORDER BY p.id LIMIT ${first + 1}`,
        );
        const hasNextPage = page.length > first;
        const nodes = hasNextPage ? page.slice(0, first) : page;
        let total: Promise<number> | undefined;
        return {
          edges: nodes.map((node) => ({ cursor: encodeCursor('p', Number(node.id)), node })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage: afterId > 0,
            startCursor: nodes[0] ? encodeCursor('p', Number(nodes[0].id)) : null,
            endCursor: nodes.at(-1) ? encodeCursor('p', Number(nodes.at(-1)!.id)) : null,
          },
          totalCount: () => {
            total ??= rows<{ n: number }>(
              ctx.db,
              sql`SELECT count(*)::int AS n FROM persons p WHERE ${where}`,
            ).then((r) => r[0]?.n ?? 0);
            return total;
          },
        };
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many persons match, across all pages',
          resolve: (connection) =>
            (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
        }),
      }),
    },
  ),
);

builder.queryField('household', (t) =>
  t.field({
    type: HouseholdRef,
    description: 'A household by its household number (户号)',
    args: { householdNumber: t.arg.string({ required: true }) },
    requiresDataset: householdsDataset,
    filters: { householdNumber: { dataset: householdsDataset, field: 'householdNumber' } },
    resolve: async (_root, args, ctx) => {
      const household = await householdByNumber(ctx).load(args.householdNumber.trim());
      if (!household) return null;
      if (!ctx.access.inScope(household.divisionCode))
        throw errors.outOfJurisdiction(`Household '${args.householdNumber}'`);
      return household;
    },
  }),
);

export const IdentityVerification = builder.enumType('IdentityVerification', {
  values: {
    MATCH: { description: 'The ID number exists and the name matches' },
    NAME_MISMATCH: { description: 'The ID number exists; the name does not match' },
    NOT_FOUND: { description: 'No person holds this ID number' },
    INVALID_ID_NUMBER: { description: 'The ID number is malformed or its check digit is wrong' },
  } as const,
});

builder.queryField('verifyIdentity', (t) =>
  t.field({
    type: IdentityVerification,
    description: 'Checks an ID number and name against the registry and discloses nothing else',
    args: { idNumber: t.arg.string({ required: true }), name: t.arg.string({ required: true }) },
    requiresDataset: personsDataset,
    resolve: async (_root, args, ctx) => {
      const parsed = parseIdNumber(args.idNumber);
      if (!parsed.ok) return 'INVALID_ID_NUMBER' as const;
      const person = await personByIdNumber(ctx).load(parsed.value.idNumber);
      ctx.access.report.rows.IdentityVerification = (ctx.access.report.rows.IdentityVerification ?? 0) + 1;
      if (!person) return 'NOT_FOUND' as const;
      ctx.access.noteSubject(`person:${person.id}`);
      return person.name === args.name.trim() ? ('MATCH' as const) : ('NAME_MISMATCH' as const);
    },
  }),
);

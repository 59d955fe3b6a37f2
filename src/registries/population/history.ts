import { sql } from 'drizzle-orm';
import { personsDataset, personsHistoryDataset } from '../../../schema/population.ts';
import { parseIdNumber } from '../../codes/index.ts';
import { codecFor } from '../../crypto/at-rest.ts';
import { rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { versionsSql, versionTimeFields } from '../versions.ts';
import { PERSON_COLUMNS, type PersonRow, personByIdNumber } from './person-store.ts';
import { Gender, PersonStatus } from './person-types.ts';

/**
 * Persons as they were: every superseded version sits in persons_history (written by the table's trigger)
 * with the time it became current (valid_from) and the time it was replaced (superseded_at). Both are
 * transaction times — when the registry recorded the change — so `asOf` answers "what did the registry
 * say then", reproducibly. A version is current over [valid_from, superseded_at).
 *
 * `person(idNumber, asOf:)` serves such a version as a Person; `personVersions(idNumber)` lists them all as
 * PersonVersion, classified by the history dataset's catalogue (its own grant).
 */

export interface PersonVersionRow extends PersonRow {
  /** When this version was replaced; null for the current version. */
  validTo: Date | null;
}

/** The internal id of the person an ID number names, now or (for a deleted record) in its history. */
async function personIdOf(ctx: GatewayContext, idNumber: string): Promise<number | null> {
  const current = await personByIdNumber(ctx).load(idNumber);
  if (current) return Number(current.id);
  const key = codecFor(ctx.db).blindIndexFor('persons', 'id_number', idNumber);
  const [old] = await rows<{ id: number }>(
    ctx.db,
    sql`SELECT id FROM persons_history WHERE id_number_bidx = ${key} ORDER BY superseded_at DESC LIMIT 1`,
  );
  return old ? Number(old.id) : null;
}

/** The person as the registry recorded it at `asOf`; null when not yet (or no longer) registered then. */
export async function personAsOf(
  ctx: GatewayContext,
  idNumber: string,
  asOf: Date,
): Promise<PersonVersionRow | null> {
  const id = await personIdOf(ctx, idNumber);
  if (id === null) return null;
  const at = asOf.toISOString();
  const [version] = await rows<PersonVersionRow>(
    ctx.db,
    sql`SELECT * FROM (
          SELECT ${PERSON_COLUMNS}, NULL::timestamptz AS "validTo" FROM persons p
           WHERE p.id = ${id} AND p.valid_from <= ${at}::timestamptz
          UNION ALL
          SELECT ${PERSON_COLUMNS}, p.superseded_at AS "validTo" FROM persons_history p
           WHERE p.id = ${id} AND p.valid_from <= ${at}::timestamptz AND p.superseded_at > ${at}::timestamptz) v
        ORDER BY "validFrom" DESC, "version" DESC LIMIT 1`,
  );
  return version ?? null;
}

/** Every version of a person, newest first (the current one included). */
export async function personVersions(ctx: GatewayContext, id: number): Promise<PersonVersionRow[]> {
  return rows<PersonVersionRow>(ctx.db, versionsSql('persons', 'p', PERSON_COLUMNS, sql`${id}`));
}

export const PersonVersionRef = builder.objectRef<PersonVersionRow>('PersonVersion');
PersonVersionRef.implement({
  description: 'A version of a person as the registry recorded it, current from validFrom until validTo',
  dataset: personsHistoryDataset,
  auditSubject: (p) => `person:${p.id}`,
  fields: (t) => ({
    ...versionTimeFields(t),
    idNumber: t.exposeString('idNumber'),
    name: t.exposeString('name'),
    gender: t.field({ type: Gender, resolve: (p) => p.gender }),
    birthDate: t.expose('birthDate', { type: 'Date' }),
    ethnicity: t.exposeString('ethnicity', { nullable: true }),
    nationality: t.exposeString('nationality'),
    hukouDivisionCode: t.exposeString('hukouDivisionCode'),
    hukouAddress: t.exposeString('hukouAddress', { nullable: true }),
    residenceDivisionCode: t.exposeString('residenceDivisionCode', { nullable: true }),
    residenceAddress: t.exposeString('residenceAddress', { nullable: true }),
    residencePoint: t.expose('residencePoint', { type: 'GeoJSON', nullable: true }),
    maritalStatus: t.exposeString('maritalStatus', { nullable: true }),
    education: t.exposeString('education', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
    status: t.field({ type: PersonStatus, resolve: (p) => p.status }),
    deathDate: t.expose('deathDate', { type: 'Date', nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept'),
    sourceBatch: t.exposeString('sourceBatch', { nullable: true }),
  }),
});

builder.queryField('personVersions', (t) =>
  t.field({
    type: [PersonVersionRef],
    description:
      'Every version of a person as the registry recorded it, newest first, the current one included (needs ' +
      'grants on population.persons and population.persons_history and the right to read ID numbers in clear)',
    args: { idNumber: t.arg.string({ required: true }) },
    requiresDataset: personsHistoryDataset,
    filters: { idNumber: { dataset: personsDataset, field: 'idNumber' } },
    resolve: async (_root, args, ctx) => {
      ctx.access.requireDataset(personsDataset);
      const parsed = parseIdNumber(args.idNumber);
      if (!parsed.ok) throw errors.invalidIdNumber('idNumber', parsed.message);
      const id = await personIdOf(ctx, parsed.value.idNumber);
      if (id === null) return [];
      const versions = await personVersions(ctx, id);
      // The jurisdiction is the person's as it is now (or was last).
      const latest = versions[0]!;
      if (
        !ctx.access.inScope(latest.hukouDivisionCode) &&
        !ctx.access.inScope(latest.residenceDivisionCode)
      ) {
        throw errors.outOfJurisdiction(`The person with ID number argument 'idNumber'`);
      }
      return versions;
    },
  }),
);

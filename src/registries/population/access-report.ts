import { sql } from 'drizzle-orm';
import { parseIdNumber } from '../../codes/index.ts';
import { rows } from '../../db/index.ts';
import { errors, GovError } from '../../errors.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import { personByIdNumber } from './person-store.ts';

/**
 * The data subject's access report (PIPL art. 45, right of access; art. 44, right to know): which
 * departments read a person's personal information, when, for what declared purpose, through which
 * operation and channel. It is read from the access audit by `subjects @> ARRAY['person:<id>']`.
 *
 * Why these types declare no dataset: the audit log's columns are closed (share 'none', see
 * schema/governance.ts), because the raw records hold principals, document hashes and other persons'
 * keys. The report is not a grant-based read of that dataset. It is decided by identity: a person may
 * read the report about themself (`myAccessReport`, JWT with the `idn` claim), and a platform steward
 * may read anyone's to answer a request (`personAccessReport`, role `steward`). Those rules live in the
 * resolvers below; each entry exposes only time, department, purpose, operation and channel — never
 * the audit row itself, its document hash, the principal id or the other subjects.
 *
 * Both queries are audited like every request (the gateway's audit plugin), with the person as subject,
 * so a steward's look at someone's report shows up in that person's own report. A person's reads of their
 * own report are not listed back to them: the report lists accesses made by departments.
 */

interface AccessEntry {
  seq: number;
  at: string;
  departmentCode: string;
  departmentName: string | null;
  purpose: string | null;
  operation: string | null;
  channel: string;
}

const AccessEntryRef = builder.objectRef<AccessEntry>('PersonalDataAccess');
AccessEntryRef.implement({
  description: 'One access to a person’s personal information by a department, from the access audit',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', nullable: false, resolve: (e) => e.at }),
    departmentCode: t.exposeString('departmentCode', { nullable: false }),
    departmentName: t.exposeString('departmentName', { nullable: true }),
    purpose: t.exposeString('purpose', { nullable: true, description: 'The purpose declared (X-Purpose)' }),
    operation: t.exposeString('operation', { nullable: true, description: 'The GraphQL operation name' }),
    channel: t.exposeString('channel', { nullable: false, description: 'graphql, ogc, tiles, export, …' }),
  }),
});

const AccessReportConnection = builder.connectionObject({
  type: AccessEntryRef,
  name: 'PersonalDataAccessConnection',
});

type ConnectionArgs = {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
};

const forbidden = (message: string) => new GovError('FORBIDDEN', message);

async function accessReport(ctx: GatewayContext, personId: number, field: string, args: ConnectionArgs) {
  const first = pageSize(args, ctx.config.maxPageSize);
  const afterSeq = args.after ? decodeCursor(args.after, 'after', 'a') : null;
  const subject = `person:${personId}`;
  // Reading someone's access history is itself an access to their personal information: on record.
  ctx.access.noteSubject(subject);
  ctx.access.noteField(`Query.${field}`, { kind: 'allow' });
  const found = await rows<AccessEntry>(
    ctx.db,
    sql`SELECT a.seq, a.at, a.department_code AS "departmentCode", d.name AS "departmentName", a.purpose,
               a.operation, a.channel
          FROM audit_log a LEFT JOIN departments d ON d.code = a.department_code
         WHERE a.subjects @> ARRAY[${subject}]::text[] AND a.department_code IS NOT NULL
           ${afterSeq === null ? sql`` : sql`AND a.seq < ${afterSeq}`}
         ORDER BY a.seq DESC LIMIT ${first + 1}`,
  );
  const hasNextPage = found.length > first;
  const nodes = hasNextPage ? found.slice(0, first) : found;
  ctx.access.report.rows.PersonalDataAccess = (ctx.access.report.rows.PersonalDataAccess ?? 0) + nodes.length;
  const cursor = (e: AccessEntry) => encodeCursor('a', Number(e.seq));
  return {
    edges: nodes.map((node) => ({ cursor: cursor(node), node })),
    pageInfo: {
      hasNextPage,
      hasPreviousPage: afterSeq !== null,
      startCursor: nodes[0] ? cursor(nodes[0]) : null,
      endCursor: nodes.at(-1) ? cursor(nodes.at(-1)!) : null,
    },
  };
}

const EMPTY = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
};

builder.queryField('myAccessReport', (t) =>
  t.connection(
    {
      type: AccessEntryRef,
      description:
        'Which departments read my personal information, newest first (PIPL art. 45). Needs a person’s token carrying their ID number (claim idn).',
      resolve: async (_root, args, ctx) => {
        const idNumber = ctx.access.principal.subjectIdNumber;
        if (ctx.access.principal.kind !== 'user' || !idNumber) {
          throw forbidden(
            "myAccessReport is for a person signed in with a token carrying their ID number (claim 'idn')",
          );
        }
        // The person is looked up whatever their registration: this is their right, not a grant.
        const person = await personByIdNumber(ctx).load(idNumber);
        if (!person) {
          pageSize(args, ctx.config.maxPageSize);
          return EMPTY;
        }
        return accessReport(ctx, Number(person.id), 'myAccessReport', args);
      },
    },
    AccessReportConnection,
  ),
);

builder.queryField('personAccessReport', (t) =>
  t.connection(
    {
      type: AccessEntryRef,
      description:
        'Which departments read a person’s personal information, newest first: for platform stewards answering a data subject’s request.',
      args: { idNumber: t.arg.string({ required: true }) },
      resolve: async (_root, args, ctx) => {
        // The role is checked before the argument, so a caller without it learns nothing about the number.
        if (!ctx.access.principal.roles.has('steward')) {
          throw forbidden('personAccessReport needs the steward role');
        }
        const parsed = parseIdNumber(args.idNumber);
        if (!parsed.ok) throw errors.invalidIdNumber('idNumber', parsed.message);
        const person = await personByIdNumber(ctx).load(parsed.value.idNumber);
        if (!person) throw errors.notFound("The person with ID number argument 'idNumber'");
        return accessReport(ctx, Number(person.id), 'personAccessReport', args);
      },
    },
    AccessReportConnection,
  ),
);

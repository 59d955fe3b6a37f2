import { changeLogDataset } from '../../schema/change-log.ts';
import { errors } from '../errors.ts';
import { builder } from '../gateway/builder.ts';
import { type GatewayContext, Loaders } from '../gateway/context.ts';
import { decodeCursor, encodeCursor } from '../gateway/pagination.ts';
import { entityById } from '../registries/legal-entity/entity-store.ts';
import { EntityRef } from '../registries/legal-entity/entity-types.ts';
import { requireDivisionInScope } from '../registries/legal-entity/queries.ts';
import { personById } from '../registries/population/person-store.ts';
import { PersonRef } from '../registries/population/person-types.ts';
import {
  CHANGE_ACTIONS,
  type ChangeRow,
  changeLogHead,
  changeStream,
  type FeedFilter,
  type FeedRegistry,
  readChanges,
  visibleKinds,
} from './feed.ts';

/**
 * Exchange: the change feed of every registry for pull consumers (`changes(registry, since)`, a page and
 * the cursor to resume from) and push consumers (`changed` subscription over SSE, fed by LISTEN/NOTIFY so
 * every gateway instance delivers changes committed anywhere). Both deliver only the changes of records in
 * the consumer's jurisdiction and of the kinds its grants cover, and both need a grant on the change log.
 */

const CURSOR_KIND = 'chg';

export const RegistryEnum = builder.enumType('Registry', {
  values: {
    POPULATION: { value: 'population', description: 'Persons and households' },
    LEGAL_ENTITY: { value: 'legal-entity', description: 'Entities (and their shareholdings)' },
    SPATIAL: { value: 'spatial', description: 'Features of the thematic layers' },
  } as const,
});

const ChangeActionEnum = builder.enumType('RegistryChangeAction', {
  values: Object.fromEntries(CHANGE_ACTIONS.map((a) => [a.toUpperCase(), { value: a }])) as Record<
    Uppercase<(typeof CHANGE_ACTIONS)[number]>,
    { value: (typeof CHANGE_ACTIONS)[number] }
  >,
});

const camel = (column: string) => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

export const RegistryChangeRef = builder.objectRef<ChangeRow>('RegistryChange');
RegistryChangeRef.implement({
  description: 'A change of a registry record, in commit order',
  dataset: changeLogDataset,
  fields: (t) => ({
    cursor: t.string({
      description: 'Resume after this change: pass it as `since`',
      access: { field: 'seq' },
      resolve: (c) => encodeCursor(CURSOR_KIND, c.seq),
    }),
    eventId: t.string({
      description: 'The change’s position in the log, unique and increasing',
      access: { field: 'seq' },
      resolve: (c) => String(c.seq),
    }),
    registry: t.field({ type: RegistryEnum, resolve: (c) => c.registry }),
    recordType: t.exposeString('recordType', { description: 'person, household, entity or feature' }),
    recordKey: t.exposeString('recordKey', {
      description: 'The record’s key: an entity’s USCC, otherwise the internal id (never an ID number)',
    }),
    action: t.field({ type: ChangeActionEnum, resolve: (c) => c.action }),
    version: t.exposeInt('version', { nullable: true, description: 'The record’s version after the change' }),
    at: t.expose('at', { type: 'DateTime' }),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    otherDivisionCode: t.exposeString('otherDivisionCode', { nullable: true }),
    previousDivisionCode: t.exposeString('previousDivisionCode', {
      nullable: true,
      description:
        'The division before the change, when the change moved the record (null otherwise, or outside your ' +
        'jurisdiction)',
    }),
    previousOtherDivisionCode: t.exposeString('previousOtherDivisionCode', {
      nullable: true,
      description: 'The second division (a person’s residence) before the change, when the change moved it',
    }),
    leftJurisdiction: t.boolean({
      description:
        'The record was in your area (the `divisionCode` argument, else your jurisdiction) before this change ' +
        'and is not after it: a move out. Divisions outside your jurisdiction are null, and `person`/`entity` ' +
        'then resolve to null',
      access: { field: 'previousDivisionCode' },
      resolve: (c) => c.leftArea,
    }),
    changedFields: t.stringList({
      nullable: true,
      description: 'Catalogue names of the fields whose value changed (not the values)',
      // Attribute changes name the attribute's code as defined (`attributes.<code>`, src/attributes).
      resolve: (c) => c.changedFields?.map((f) => (f.startsWith('attributes.') ? f : camel(f))) ?? null,
    }),
    sourceDept: t.exposeString('sourceDept', { nullable: true }),
    batch: t.exposeString('batch', { nullable: true }),
    person: t.field({
      type: PersonRef,
      nullable: true,
      description: 'The person as it is now (null for other records, once deleted, or out of scope)',
      access: 'link',
      // Person events reach only callers with a grant on persons (visibleKinds); each field decides itself.
      resolve: (c, _args, ctx) =>
        c.recordType === 'person' ? personById(ctx).load(Number(c.recordKey)) : null,
    }),
    entity: t.field({
      type: EntityRef,
      nullable: true,
      description: 'The entity as it is now (null for other records, once deleted, or out of scope)',
      access: 'link',
      resolve: async (c, _args, ctx) => {
        if (c.recordType !== 'entity') return null;
        const [found] = await ctx.db.query<{ id: number }>(`SELECT id FROM entities WHERE uscc = $1`, [
          c.recordKey,
        ]);
        return found ? entityById(ctx).load(Number(found.id)) : null;
      },
    }),
  }),
});

interface ChangePage {
  changes: ChangeRow[];
  cursor: string;
  hasMore: boolean;
}

const ChangePageRef = builder.objectRef<ChangePage>('ChangePage');
ChangePageRef.implement({
  description: 'A page of changes and the cursor to resume after it',
  fields: (t) => ({
    changes: t.field({ type: [RegistryChangeRef], resolve: (p) => p.changes }),
    cursor: t.exposeString('cursor', {
      description:
        'Pass as `since` next time. When the page is the last, it advances past changes this caller may not ' +
        'see, so they are not scanned again',
    }),
    hasMore: t.exposeBoolean('hasMore'),
  }),
});

interface FeedArgs {
  registry: FeedRegistry;
  recordTypes?: readonly string[] | null;
  divisionCode?: string | null;
}

async function feedFilter(ctx: GatewayContext, args: FeedArgs): Promise<FeedFilter> {
  ctx.access.requireDataset(changeLogDataset);
  const division = args.divisionCode
    ? await requireDivisionInScope(ctx, args.divisionCode, 'divisionCode')
    : null;
  return {
    registry: args.registry,
    scope: ctx.access.principal.scope,
    kinds: visibleKinds(ctx.access, args.registry, args.recordTypes),
    division: division
      ? { lo: division.prefix, hi: division.prefix + '9'.repeat(12 - division.prefix.length) }
      : null,
  };
}

const since = (value: string | null | undefined) =>
  value ? decodeCursor(value, 'since', CURSOR_KIND) : null;

builder.queryField('changes', (t) =>
  t.field({
    type: ChangePageRef,
    description:
      'Changes of a registry after a cursor, oldest first (pull). Keep `cursor` and pass it as `since` next ' +
      'time; without `since`, starts at the beginning of the log.',
    args: {
      registry: t.arg({ type: RegistryEnum, required: true }),
      since: t.arg.string({ description: 'A cursor from an earlier page or event' }),
      first: t.arg.int({ defaultValue: 100 }),
      recordTypes: t.arg.stringList({
        description: 'person, household, entity, feature (default: all granted)',
      }),
      divisionCode: t.arg.string({ description: 'A division subtree within the jurisdiction' }),
    },
    requiresDataset: changeLogDataset,
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 100;
      if (first < 1 || first > ctx.config.maxPageSize) {
        if (first > ctx.config.maxPageSize)
          throw errors.pageSizeTooLarge('first', first, ctx.config.maxPageSize);
        throw errors.invalidArgument('first', 'must be at least 1');
      }
      const after = since(args.since) ?? 0;
      const filter = await feedFilter(ctx, args);
      // The head is read before the page: every change not yet visible will carry a higher seq.
      const head = await changeLogHead(ctx.db);
      const page = await readChanges(ctx.db, after, first + 1, filter);
      const hasMore = page.length > first;
      const changes = hasMore ? page.slice(0, first) : page;
      const last = changes.at(-1)?.seq ?? after;
      return { changes, hasMore, cursor: encodeCursor(CURSOR_KIND, hasMore ? last : Math.max(last, head)) };
    },
  }),
);

builder.subscriptionField('changed', (t) =>
  t.field({
    type: RegistryChangeRef,
    description:
      'Changes of a registry as they are committed (push, over SSE: POST with Accept: text/event-stream). ' +
      'With `since`, the changes after that cursor come first. Filtered by the subscriber’s jurisdiction ' +
      'and grants.',
    args: {
      registry: t.arg({ type: RegistryEnum, required: true }),
      since: t.arg.string({ description: 'A cursor from `changes` or an earlier event' }),
      recordTypes: t.arg.stringList(),
      divisionCode: t.arg.string({ description: 'A division subtree within the jurisdiction' }),
    },
    subscribe: async (_root, args, ctx) => {
      // The access plugin wraps resolvers, not subscribe functions: the dataset check is made here, by the
      // same RequestAccess, before anything is streamed.
      const filter = await feedFilter(ctx, args);
      const stream = await changeStream(ctx.db, filter, since(args.since));
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          const result = await stream.next();
          // Each event reads the record it links to as it is now, not as an earlier event cached it.
          ctx.loaders = new Loaders();
          return result;
        },
        return: () => stream.return!(),
      } as AsyncIterableIterator<ChangeRow>;
    },
    resolve: (change) => change,
  }),
);

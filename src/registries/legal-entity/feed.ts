import { changeLogDataset } from '../../../schema/change-log.ts';
import { builder } from '../../gateway/builder.ts';
import { type GatewayContext, Loaders } from '../../gateway/context.ts';
import { decodeCursor, encodeCursor, pageSize } from '../../gateway/pagination.ts';
import {
  type ChangeFilter,
  changeLogHead,
  type EntityChangeAction,
  type EntityChangeRow,
  entityChangeStream,
  readEntityChanges,
  visibleActions,
} from './change-feed.ts';
import { entityById, entityByUscc } from './entity-store.ts';
import { EntityRef } from './entity-types.ts';
import { requireDivisionInScope } from './queries.ts';

/**
 * Real-time sharing of entity changes: a pull feed (`entityChanges`, a connection whose cursor a consumer
 * keeps and resumes from) and a push feed (`entityChanged` subscription over SSE, fed by LISTEN/NOTIFY so
 * any gateway instance delivers changes committed through any other). Both deliver only changes in the
 * consumer's jurisdiction and of the kinds its grants cover, and both need a grant on the change log.
 */

const CURSOR_KIND = 'chg';

export const EntityChangeActionEnum = builder.enumType('EntityChangeAction', {
  values: {
    REGISTERED: { value: 'registered', description: 'A new registration (设立登记)' },
    UPDATED: { value: 'updated', description: 'Any other change of the record (变更登记)' },
    STATUS_CHANGED: {
      value: 'status_changed',
      description: 'Revocation, cancellation, moving out, reinstatement',
    },
    LEGAL_REP_CHANGED: { value: 'legal_rep_changed', description: 'A new legal representative' },
    SHAREHOLDING_CHANGED: {
      value: 'shareholding_changed',
      description: 'Shareholders or their holdings changed',
    },
    DELETED: { value: 'deleted', description: 'The record was removed from the registry' },
  } as const,
});

const camel = (column: string) => column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

export const EntityChangeRef = builder.objectRef<EntityChangeRow>('EntityChange');
EntityChangeRef.implement({
  description: 'A change of an entity, in commit order',
  dataset: changeLogDataset,
  fields: (t) => ({
    cursor: t.string({
      description: 'Resume after this change: pass it as `after`',
      access: { field: 'seq' },
      resolve: (c) => encodeCursor(CURSOR_KIND, c.seq),
    }),
    seq: t.string({ access: { field: 'seq' }, resolve: (c) => String(c.seq) }),
    action: t.field({ type: EntityChangeActionEnum, resolve: (c) => c.action }),
    uscc: t.exposeString('uscc', { access: { field: 'recordKey' } }),
    version: t.exposeInt('version', { nullable: true }),
    divisionCode: t.exposeString('divisionCode', { nullable: true }),
    previousDivisionCode: t.exposeString('previousDivisionCode', {
      nullable: true,
      description:
        'The division before the change, when the change moved the entity (null otherwise, or outside your ' +
        'jurisdiction)',
    }),
    leftJurisdiction: t.boolean({
      description:
        'The entity was in your area (the `divisionCode` argument, else your jurisdiction) before this change ' +
        'and is not after it: a move out. Divisions outside your jurisdiction are null',
      access: { field: 'previousDivisionCode' },
      resolve: (c) => c.leftArea,
    }),
    changedFields: t.stringList({
      nullable: true,
      description: 'Catalogue names of the fields whose value changed (not the values)',
      resolve: (c) => c.changedFields?.map(camel) ?? null,
    }),
    at: t.expose('at', { type: 'DateTime' }),
    sourceDept: t.exposeString('sourceDept', { nullable: true }),
    batch: t.exposeString('batch', { nullable: true }),
    entity: t.field({
      type: EntityRef,
      nullable: true,
      description: 'The entity as it is now (null once deleted or out of scope)',
      access: 'link',
      resolve: (c, _args, ctx) => entityByUsccInScope(ctx, c.uscc),
    }),
  }),
});

/** Current entity by USCC within scope; the change's division was in scope, the entity may have moved. */
async function entityByUsccInScope(ctx: GatewayContext, uscc: string) {
  const entity = await entityByUscc(ctx).load(uscc);
  if (!entity) return null;
  return entityById(ctx).load(Number(entity.id));
}

interface FeedArgs {
  actions?: readonly EntityChangeAction[] | null;
  divisionCode?: string | null;
}

async function feedFilter(ctx: GatewayContext, args: FeedArgs): Promise<ChangeFilter> {
  ctx.access.requireDataset(changeLogDataset);
  const division = args.divisionCode
    ? await requireDivisionInScope(ctx, args.divisionCode, 'divisionCode')
    : null;
  return {
    scope: ctx.access.principal.scope,
    actions: visibleActions(ctx.access.principal, args.actions),
    divisionPrefix: division?.prefix ?? null,
  };
}

builder.queryField('entityChanges', (t) =>
  t.connection(
    {
      type: EntityChangeRef,
      description:
        'Entity changes after a cursor, oldest first (pull). Keep `pageInfo.endCursor` and pass it as `after` ' +
        'next time: when nothing is left it still advances past changes this caller may not see. Without ' +
        '`after`, starts at the beginning of the log.',
      args: {
        actions: t.arg({
          type: [EntityChangeActionEnum],
          description: 'Default: every kind the grants cover',
        }),
        divisionCode: t.arg.string({ description: 'A division subtree within the jurisdiction' }),
      },
      requiresDataset: changeLogDataset,
      resolve: async (_root, args, ctx) => {
        const first = pageSize(args, ctx.config.maxPageSize, 100);
        const after = args.after ? decodeCursor(args.after, 'after', CURSOR_KIND) : 0;
        const filter = await feedFilter(ctx, args);
        // The head is read before the page: every change not yet visible will carry a higher seq.
        const head = await changeLogHead(ctx.db);
        const page = await readEntityChanges(ctx.db, after, first + 1, filter);
        const hasNextPage = page.length > first;
        const nodes = hasNextPage ? page.slice(0, first) : page;
        const last = nodes.at(-1)?.seq ?? after;
        const end = hasNextPage ? last : Math.max(last, head);
        return {
          edges: nodes.map((node) => ({ cursor: encodeCursor(CURSOR_KIND, node.seq), node })),
          pageInfo: {
            hasNextPage,
            hasPreviousPage: after > 0,
            startCursor: nodes[0] ? encodeCursor(CURSOR_KIND, nodes[0].seq) : null,
            endCursor: encodeCursor(CURSOR_KIND, end),
          },
        };
      },
    },
    {},
  ),
);

builder.subscriptionField('entityChanged', (t) =>
  t.field({
    type: EntityChangeRef,
    description:
      'Entity changes as they are committed (push, over SSE: POST with Accept: text/event-stream). With ' +
      '`after`, the changes since that cursor come first. Filtered by the subscriber’s jurisdiction and grants.',
    args: {
      after: t.arg.string({ description: 'A cursor from entityChanges or an earlier event' }),
      actions: t.arg({ type: [EntityChangeActionEnum] }),
      divisionCode: t.arg.string({ description: 'A division subtree within the jurisdiction' }),
    },
    subscribe: async (_root, args, ctx) => {
      // Pothos' access plugin wraps resolvers, not subscribe functions: the dataset check is made here,
      // by the same RequestAccess, before anything is streamed.
      const filter = await feedFilter(ctx, args);
      const after = args.after ? decodeCursor(args.after, 'after', CURSOR_KIND) : null;
      const stream = await entityChangeStream(ctx.db, filter, after);
      return {
        [Symbol.asyncIterator]() {
          return this;
        },
        async next() {
          const result = await stream.next();
          // A subscription's context lives as long as the stream: give each event fresh loaders, so the
          // entity it links to is read as it is now, not as an earlier event cached it.
          ctx.loaders = new Loaders();
          return result;
        },
        return: () => stream.return!(),
      } as AsyncIterableIterator<EntityChangeRow>;
    },
    resolve: (change) => change,
  }),
);

import { createHash } from 'node:crypto';
import type { AuditEntry } from '../access/audit.ts';
import { applyMask } from '../access/masking.ts';
import { type Decision, decideField } from '../access/policy.ts';
import { RequestAccess } from '../access/request-access.ts';
import { sm3Hex } from '../access/sm3.ts';
import type { Queryable } from '../db/index.ts';
import { errors } from '../errors.ts';
import type { GatewayServices } from '../gateway/server.ts';
import type { Collection, CollectionContext, FeatureRecord } from './collections.ts';
import { extendCollection, getCollection } from './collections.ts';
import { problems } from './problems.ts';
import { SqlBuilder } from './sql.ts';

/**
 * What one caller may see of one collection, decided once per request from the field catalogue
 * (src/access): per property allow / mask / deny, the geometry as they may see it, the row scope, and a
 * key of all that, so caches never hand one caller's view to another.
 */
export interface CollectionAccess {
  collection: Collection;
  ctx: CollectionContext;
  /** Decision per property name. */
  decisions: Record<string, Decision>;
  geometryDecision: Decision;
  /** SQL of the geometry as this caller may see it (raw, or masked in SQL), or null when denied. */
  geometrySql: string | null;
  /** Properties served (allowed or masked), in definition order. */
  visible: string[];
  /** The profile key: equal keys see identical output. */
  key: string;
}

/**
 * The 'point' mask of src/access/masking.ts (maskPoint), in SQL, so tiles and clusters can be built from
 * masked positions in the database. It must stay equal to maskPoint: test/ogc.test.ts compares the two.
 */
function maskPointSql(column: string): string {
  const snap = (v: string) => `((floor(${v} * 100) + 0.5) / 100)`;
  return `ST_SetSRID(ST_MakePoint(${snap(`ST_X(${column})`)}, ${snap(`ST_Y(${column})`)}), ST_SRID(${column}))`;
}

function geometryAs(collection: Collection, decision: Decision): string | null {
  if (decision.kind === 'allow') return collection.geometry.column;
  if (decision.kind === 'mask') {
    const rule = collection.fieldEntries.geometry!.mask;
    // Only points have a geometry mask; anything else fails closed (denied).
    if (rule === 'point' && collection.geometry.type === 'Point')
      return maskPointSql(collection.geometry.column);
  }
  return null;
}

/** The row scope predicate (text and parameters), rendered into `sql`. */
export function rowScopeSql(collection: Collection, ctx: CollectionContext, sql: SqlBuilder): string | null {
  return collection.rowScope ? collection.rowScope(ctx.principal, (v, cast) => sql.param(v, cast)) : null;
}

/** The caller's view of a collection; null when the collection is invisible to them. */
export function collectionAccess(collection: Collection, ctx: CollectionContext): CollectionAccess | null {
  const readable = collection.canRead
    ? collection.canRead(ctx)
    : ctx.access.canReadDataset(collection.dataset);
  if (!readable) return null;
  const decisions: Record<string, Decision> = {};
  const visible: string[] = [];
  for (const [name, property] of Object.entries(collection.properties)) {
    // A property with its own classification (an attribute) is decided by the same policy function.
    const decision = property.entry
      ? decideField(
          ctx.principal,
          collection.dataset.id,
          property.owner ?? collection.dataset.owner,
          property.entry,
        )
      : ctx.access.decide(collection.dataset, property.field);
    decisions[name] = decision;
    if (decision.kind !== 'deny') {
      // A mask decision on a field whose rule cannot mask is denied (fail closed), as in applyMask.
      if (decision.kind === 'mask' && collection.fieldEntries[name]!.mask === 'none') {
        decisions[name] = { kind: 'deny', reason: 'forbidden' };
        continue;
      }
      visible.push(name);
    }
  }
  const geometryDecision = ctx.access.decide(collection.dataset, collection.geometry.field);
  const geometrySql = geometryAs(collection, geometryDecision);
  const scope = new SqlBuilder();
  const scopeText = rowScopeSql(collection, ctx, scope);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        d: Object.entries(decisions).map(([n, d]) => [n, d.kind]),
        g: geometrySql === null ? 'deny' : geometryDecision.kind,
        s: scopeText === null ? null : [scopeText, scope.params],
        h: collection.hook ? collection.hook.profile(ctx) : null,
      }),
    )
    .digest('base64url')
    .slice(0, 22);
  return { collection, ctx, decisions, geometryDecision, geometrySql, visible, key };
}

/** The per-request context of a principal (benchmarks pass `{ config }` instead of the gateway services). */
export function requestContext(
  principal: CollectionContext['principal'],
  services: Pick<GatewayServices, 'config'>,
): CollectionContext {
  return { principal, access: new RequestAccess(principal), config: services.config };
}

/** A collection by id, as this caller sees it; unknown and invisible collections are the same 404. */
export function resolveCollection(id: string, ctx: CollectionContext): CollectionAccess {
  const collection = getCollection(id);
  const view = collection ? collectionAccess(collection, ctx) : null;
  if (!view) throw problems.collectionNotFound(id);
  return view;
}

/**
 * A collection as this caller sees it, with its per-request properties (attributes defined on demand) read
 * from the database first; unknown and invisible collections are the same 404.
 */
export async function resolveLiveCollection(
  id: string,
  ctx: CollectionContext,
  db: Queryable,
): Promise<CollectionAccess> {
  const collection = getCollection(id);
  if (!collection) throw problems.collectionNotFound(id);
  const extra = collection.dynamicProperties ? await collection.dynamicProperties(db) : null;
  const view = collectionAccess(extra ? extendCollection(collection, extra) : collection, ctx);
  if (!view) throw problems.collectionNotFound(id);
  return view;
}

/** Masks the masked properties of raw rows in place (geometry is masked in SQL). */
export function maskProperties(view: CollectionAccess, properties: Record<string, unknown>): void {
  for (const name of Object.keys(properties)) {
    if (view.decisions[name]?.kind === 'mask') {
      properties[name] = applyMask(view.collection.fieldEntries[name]!.mask, properties[name]);
    }
  }
}

/** Runs the collection's hook (e.g. small-cell suppression) over features already masked. */
export function applyHook(view: CollectionAccess, features: FeatureRecord[]): void {
  view.collection.hook?.apply(features, view.ctx);
}

/**
 * Appends the audit record of one access before the response leaves; when it cannot be written the
 * caller gets AUDIT_UNAVAILABLE (503) and no data.
 */
export async function auditAccess(
  services: GatewayServices,
  view: CollectionAccess,
  channel: 'ogc' | 'tiles',
  request: string,
  returned: number,
  served: readonly string[],
): Promise<void> {
  if (!services.audit) return;
  const { principal } = view.ctx;
  const fields: Record<string, Record<string, number>> = {};
  const id = view.collection.id;
  for (const [name, decision] of Object.entries(view.decisions)) {
    const kind = served.includes(name) || decision.kind === 'deny' ? decision.kind : null;
    if (kind) fields[`${id}.${name}`] = { [kind]: returned };
  }
  fields[`${id}.geometry`] = { [view.geometrySql === null ? 'deny' : view.geometryDecision.kind]: returned };
  const entry: AuditEntry = {
    principal: principal.id,
    departmentCode: principal.department?.code ?? null,
    purpose: principal.purpose,
    channel,
    operation: id,
    documentHash: sm3Hex(request),
    fields,
    rowCounts: { [id]: returned },
    subjects: [],
    outcome: 'ok',
  };
  try {
    await services.audit.append(entry);
  } catch (error) {
    console.error(`${channel} audit write failed; response withheld`, (error as Error).message);
    throw errors.auditUnavailable();
  }
}

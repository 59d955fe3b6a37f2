import { type SQL, sql } from 'drizzle-orm';
import type { JurisdictionScope } from '../../access/principal.ts';
import { type Database, groupByKey, rows } from '../../db/index.ts';
import { errors } from '../../errors.ts';
import { entityScope } from './entity-store.ts';

/**
 * The ownership graph in SQL: beneficial owners, control chains and the ownership neighbourhood, each one
 * statement for a whole batch of root entities (so a page of entities costs one statement, not one per
 * entity). Exported for the gateway's loaders and for `npm run bench`.
 *
 * Edges are the current shareholdings (ended_on IS NULL), pointing from the shareholder to the entity whose
 * shares it holds. Ownership crosses jurisdictions: the walk reads the national graph, and only what it
 * returns is scoped by the caller.
 */

/** Deepest ownership walk a caller may ask for (UBO, control chain). */
export const MAX_OWNERSHIP_DEPTH = 20;
/** Largest neighbourhood radius for relatedEntities. */
export const MAX_RELATED_DEPTH = 6;

export function requireDepth(value: number, argument: string, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw errors.invalidArgument(argument, `must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

export function requireShare(value: number, argument: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw errors.invalidArgument(argument, `is a share from 0 to 1 (0.25 = 25%), got ${value}`);
  }
  return value;
}

export interface BeneficialOwnerRow {
  root: number;
  /** The person in the population registry, when the holding names one. */
  personId: number | null;
  name: string;
  /** Stored form (a ciphertext): decrypted by the access layer when the caller may see it. */
  idNumber: string | null;
  /** Effective share of the root entity, 0..1: the product of the shares along a path, summed over paths. */
  share: number;
  paths: number;
  /** Number of holdings on the shortest path (1 = a direct shareholder). */
  shortestDepth: number;
}

/**
 * Ultimate beneficial owners: natural persons whose effective ownership of the root — the shares
 * multiplied along every ownership path, summed over the paths — is at least `threshold` (0..1).
 *
 * Cycles: each path carries the entities it has passed; a step to an entity already on the path is not
 * taken, so effective ownership is the sum over simple paths (a cross-holding is counted once, not as
 * an infinite series). Paths end at natural persons, at holders that are not entities (state, foreign),
 * at entities without shareholders, or after `maxDepth` holdings.
 */
export function beneficialOwnersSql(roots: readonly number[], threshold: number, maxDepth: number): SQL {
  return sql`
    WITH RECURSIVE walk AS (
      SELECT s.entity_id AS root, s.shareholder_kind AS kind, s.shareholder_entity_id AS holder,
             s.shareholder_person_id AS person_id, s.shareholder_name AS name,
             s.shareholder_id_number AS id_number, s.shareholder_id_number_bidx AS id_key,
             s.percentage::float8 / 100 AS share, 1 AS depth,
             ARRAY[s.entity_id] AS path
        FROM shareholdings s
       WHERE s.entity_id = ANY(${sql.param([...roots])}::bigint[]) AND s.ended_on IS NULL
      UNION ALL
      SELECT w.root, s.shareholder_kind, s.shareholder_entity_id, s.shareholder_person_id, s.shareholder_name,
             s.shareholder_id_number, s.shareholder_id_number_bidx, w.share * s.percentage::float8 / 100,
             w.depth + 1, w.path || w.holder
        FROM walk w
        JOIN shareholdings s ON s.entity_id = w.holder AND s.ended_on IS NULL
       WHERE w.kind = 'entity' AND w.depth < ${maxDepth}::int AND NOT (w.holder = ANY(w.path))
    )
    SELECT root, min(person_id) AS "personId", min(name) AS name, min(id_number) AS "idNumber",
           sum(share) AS share, count(*)::int AS paths, min(depth) AS "shortestDepth"
      FROM walk
     WHERE kind = 'person'
     GROUP BY root, coalesce('p' || person_id::text, 'i' || id_key, 'n' || name)
    HAVING sum(share) >= ${threshold}::float8 - 1e-12
     ORDER BY root, share DESC, name`;
}

export async function beneficialOwners(
  db: Database,
  roots: readonly number[],
  threshold: number,
  maxDepth: number,
): Promise<BeneficialOwnerRow[][]> {
  const found = await rows<BeneficialOwnerRow>(db, beneficialOwnersSql(roots, threshold, maxDepth));
  return groupByKey(
    roots.map(Number),
    found.map((r) => ({ ...r, root: Number(r.root), share: Number(r.share) })),
    (r) => r.root,
  );
}

export interface ControlStepRow {
  root: number;
  /** 1 = the root's controller. */
  depth: number;
  /** The controlled entity at this step (the root at depth 1). */
  entityId: number;
  controllerKind: 'person' | 'entity' | 'other';
  controllerEntityId: number | null;
  controllerPersonId: number | null;
  controllerName: string;
  /** The controller's holding in the controlled entity, percent. */
  percentage: number;
  /** Product of the holdings from the root up to this controller, 0..1. */
  cumulativeShare: number;
  /** The controller is an entity already on the chain: the chain ends in a cycle. */
  closesCycle: boolean;
}

/**
 * The control chain: from the root, repeatedly the controlling shareholder — the largest holder, holding
 * at least `minShare` (0..1) and strictly more than the next holder (a tie is joint control, not
 * control) — until a natural person or another non-entity holder, an entity without a controller, a
 * cycle, or `maxDepth` steps.
 */
export function controlChainSql(roots: readonly number[], minShare: number, maxDepth: number): SQL {
  const controller = (entity: SQL) => sql`
    SELECT s.shareholder_kind, s.shareholder_entity_id, s.shareholder_person_id, s.shareholder_name,
           s.percentage::float8 AS pct,
           lead(s.percentage::float8) OVER (ORDER BY s.percentage DESC, s.id) AS next_pct
      FROM shareholdings s WHERE s.entity_id = ${entity} AND s.ended_on IS NULL
     ORDER BY s.percentage DESC, s.id LIMIT 1`;
  const controls = sql`c.pct / 100 >= ${minShare}::float8 AND (c.next_pct IS NULL OR c.pct > c.next_pct)`;
  return sql`
    WITH RECURSIVE chain AS (
      SELECT r.root, 1 AS depth, r.root AS entity_id, c.shareholder_kind AS kind, c.shareholder_entity_id AS holder,
             c.shareholder_person_id AS person_id, c.shareholder_name AS name, c.pct, c.pct / 100 AS cumulative,
             ARRAY[r.root] AS path, coalesce(c.shareholder_entity_id = r.root, false) AS closes_cycle
        FROM unnest(${sql.param([...roots])}::bigint[]) AS r(root)
       CROSS JOIN LATERAL (${controller(sql`r.root`)}) c
       WHERE ${controls}
      UNION ALL
      SELECT ch.root, ch.depth + 1, ch.holder, c.shareholder_kind, c.shareholder_entity_id,
             c.shareholder_person_id, c.shareholder_name, c.pct, ch.cumulative * c.pct / 100,
             ch.path || ch.holder, coalesce(c.shareholder_entity_id = ANY(ch.path || ch.holder), false)
        FROM chain ch
       CROSS JOIN LATERAL (${controller(sql`ch.holder`)}) c
       WHERE ch.kind = 'entity' AND NOT ch.closes_cycle AND ch.depth < ${maxDepth}::int AND ${controls}
    )
    SELECT root, depth, entity_id AS "entityId", kind AS "controllerKind", holder AS "controllerEntityId",
           person_id AS "controllerPersonId", name AS "controllerName", pct AS percentage,
           cumulative AS "cumulativeShare", closes_cycle AS "closesCycle"
      FROM chain ORDER BY root, depth`;
}

export async function controlChains(
  db: Database,
  roots: readonly number[],
  minShare: number,
  maxDepth: number,
): Promise<ControlStepRow[][]> {
  const found = await rows<ControlStepRow>(db, controlChainSql(roots, minShare, maxDepth));
  return groupByKey(
    roots.map(Number),
    found.map((r) => ({
      ...r,
      root: Number(r.root),
      percentage: Number(r.percentage),
      cumulativeShare: Number(r.cumulativeShare),
    })),
    (r) => r.root,
  );
}

export type RelationDirection = 'owner' | 'investee' | 'mixed';

export interface RelatedEntityRow {
  root: number;
  entityId: number;
  /** Fewest ownership edges between the root and the entity. */
  distance: number;
  /** owner: reached only upwards (owners, owners' owners); investee: only downwards; mixed: otherwise. */
  direction: RelationDirection;
}

/**
 * The ownership neighbourhood: entities within `depth` shareholding edges of the root, in either direction.
 * One recursive CTE; UNION (not UNION ALL) drops repeated (entity, depth, direction) rows, so the work per
 * level is bounded by the number of entities reachable, whatever the cycles. Results are limited to the
 * caller's jurisdiction and to `limit` per root, nearest first.
 */
export function relatedEntitiesSql(
  roots: readonly number[],
  depth: number,
  limit: number,
  scope: JurisdictionScope | null,
): SQL {
  return sql`
    WITH RECURSIVE reach(root, id, depth, dir) AS (
      SELECT r, r, 0, 'self' FROM unnest(${sql.param([...roots])}::bigint[]) AS r
      UNION
      SELECT w.root, n.id, w.depth + 1,
             CASE WHEN w.dir = 'self' OR w.dir = n.dir THEN n.dir ELSE 'mixed' END
        FROM reach w
       CROSS JOIN LATERAL (
             SELECT s.shareholder_entity_id AS id, 'owner' AS dir FROM shareholdings s
              WHERE s.entity_id = w.id AND s.shareholder_entity_id IS NOT NULL AND s.ended_on IS NULL
             UNION ALL
             SELECT s.entity_id, 'investee' FROM shareholdings s
              WHERE s.shareholder_entity_id = w.id AND s.ended_on IS NULL) n
       WHERE w.depth < ${depth}::int
    ), nearest AS (
      SELECT root, id, depth, dir, min(depth) OVER (PARTITION BY root, id) AS d0 FROM reach WHERE id <> root
    ), classified AS (
      SELECT root, id, depth AS distance,
             CASE WHEN count(DISTINCT dir) > 1 THEN 'mixed' ELSE min(dir) END AS direction
        FROM nearest WHERE depth = d0 GROUP BY root, id, depth
    ), ranked AS (
      SELECT c.*, row_number() OVER (PARTITION BY c.root ORDER BY c.distance, c.id) AS n
        FROM classified c JOIN entities e ON e.id = c.id
       WHERE ${entityScope(scope)}
    )
    SELECT root, id AS "entityId", distance, direction FROM ranked WHERE n <= ${limit}::int
     ORDER BY root, distance, id`;
}

export async function relatedEntities(
  db: Database,
  roots: readonly number[],
  depth: number,
  limit: number,
  scope: JurisdictionScope | null,
): Promise<RelatedEntityRow[][]> {
  const found = await rows<RelatedEntityRow>(db, relatedEntitiesSql(roots, depth, limit, scope));
  return groupByKey(
    roots.map(Number),
    found.map((r) => ({ ...r, root: Number(r.root), entityId: Number(r.entityId) })),
    (r) => r.root,
  );
}

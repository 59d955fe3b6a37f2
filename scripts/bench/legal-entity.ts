import { type SQL, sql } from 'drizzle-orm';
import { DEMO_PRINCIPALS } from '../../src/access/demo.ts';
import { rows } from '../../src/db/index.ts';
import { type EntityManifest, generateEntities } from '../../src/ingest/generate/entities.ts';
import { ENTITY_COLUMNS } from '../../src/registries/legal-entity/entity-store.ts';
import { beneficialOwnersSql, controlChainSql } from '../../src/registries/legal-entity/ownership.ts';
import { SHAREHOLDING_COLUMNS } from '../../src/registries/legal-entity/shareholding-store.ts';
import type { BenchContext } from './context.ts';
import { type Comparison, compare, timeBulk, timeEach } from './harness.ts';

/**
 * The legal-entity registry on `entities` generated entities: entity by USCC, an entity with its
 * shareholders two levels deep, ultimate beneficial owners and the control chain — each through the gateway
 * as deployed (authentication, access decisions, masking, audit) against the same SQL statements the
 * gateway's loaders issue, run raw in the same run.
 *
 * The entities draw their legal representatives and shareholders from the persons already generated; run
 * alone (`--only legal-entity`) the bench generates a smaller population for them (see scripts/bench.ts).
 */

const BY_USCC = `query($u: String!) { entity(uscc: $u) {
  uscc name legalForm status establishedOn registeredCapital divisionCode address registrationAuthority } }`;

const NESTED = `query($u: String!) { entity(uscc: $u) { uscc name
  shareholders { shareholderKind shareholderName percentage
    shareholderEntity { uscc name
      shareholders { shareholderKind shareholderName percentage
        shareholderEntity { uscc name } } } } } }`;

const UBO_THRESHOLD = 0.1;
const UBO_DEPTH = 10;
const UBO = `query($u: String!) { entity(uscc: $u) { uscc
  ultimateBeneficialOwners(threshold: ${UBO_THRESHOLD}, maxDepth: ${UBO_DEPTH}) { name share paths shortestDepth } } }`;

const CONTROL_SHARE = 0.5;
const CONTROL = `query($u: String!) { entity(uscc: $u) { uscc
  controlChain(minShare: ${CONTROL_SHARE}, maxDepth: ${UBO_DEPTH}) { depth controllerKind controllerName percentage cumulativeShare closesCycle } } }`;

// The loaders' statements (src/registries/legal-entity/entity-store.ts, shareholding-store.ts); the bench's
// principal has no jurisdiction, so their scope condition is TRUE.
const entityByUscc = (uscc: string): SQL =>
  sql`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.uscc = ANY(${sql.param([uscc])}::text[])`;
const entitiesById = (ids: number[]): SQL =>
  sql`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id = ANY(${sql.param(ids)}::bigint[]) AND TRUE`;
const shareholdersOf = (ids: number[]): SQL =>
  sql`SELECT ${SHAREHOLDING_COLUMNS} FROM shareholdings s
       WHERE s.entity_id = ANY(${sql.param(ids)}::bigint[]) AND s.ended_on IS NULL
       ORDER BY s.entity_id, s.percentage DESC, s.id`;

interface Holding {
  shareholderEntityId: number | null;
}

/** The raw counterpart of NESTED: the five statements the loaders issue, one level after the other. */
async function nestedRaw(ctx: BenchContext, uscc: string): Promise<void> {
  const [root] = await rows<{ id: number }>(ctx.db, entityByUscc(uscc));
  if (!root) throw new Error(`bench: entity ${uscc} not found`);
  let level = [Number(root.id)];
  for (let depth = 0; depth < 2; depth++) {
    const holdings = await rows<Holding>(ctx.db, shareholdersOf(level));
    const holders = [
      ...new Set(holdings.filter((h) => h.shareholderEntityId).map((h) => Number(h.shareholderEntityId))),
    ];
    if (holders.length === 0) break;
    await rows(ctx.db, entitiesById(holders));
    level = holders;
  }
}

async function ownershipRaw(ctx: BenchContext, uscc: string, walk: (id: number) => SQL): Promise<void> {
  const [root] = await rows<{ id: number }>(ctx.db, entityByUscc(uscc));
  if (!root) throw new Error(`bench: entity ${uscc} not found`);
  await rows(ctx.db, walk(Number(root.id)));
}

async function sample(ctx: BenchContext, query: SQL): Promise<string[]> {
  return (await rows<{ uscc: string }>(ctx.db, query)).map((r) => r.uscc);
}

export async function benchLegalEntity(ctx: BenchContext, entities: number): Promise<Comparison[]> {
  const { db, gateway, post } = ctx;
  let manifest: EntityManifest | undefined;
  const generated = await timeBulk('generate entities (entities/s)', entities, async () => {
    let shown = 0;
    manifest = await generateEntities(db, {
      entities,
      seed: 'bench',
      onProgress: (done, total) => {
        if (done - shown >= total / 10) {
          shown = done;
          process.stdout.write(`  entities ${done.toLocaleString()} / ${total.toLocaleString()}\r`);
        }
      },
    });
  });
  const m = manifest!;
  const holdings = m.shareholdings.person + m.shareholdings.entity + m.shareholdings.other;
  console.log(
    `\nentity generator: ${m.entities.toLocaleString()} entities, ${holdings.toLocaleString()} shareholdings ` +
      `(${m.shareholdings.entity.toLocaleString()} by entities, ${m.chains.length} deep chains, ${m.cycles.length} cycles) ` +
      `in ${generated.seconds.toFixed(0)} s (${Math.round(generated.perSecond).toLocaleString()} entities/s)`,
  );
  await db.exec('ANALYZE entities; ANALYZE shareholdings');

  const key = DEMO_PRINCIPALS.platformSteward.key;
  const headers = { authorization: `Bearer ${key}`, 'x-purpose': 'data_governance' };
  // Codes that fail their check are INVALID_USCC at the gateway: not a lookup.
  const codes = await sample(
    ctx,
    sql`SELECT uscc FROM entities TABLESAMPLE SYSTEM (5) WHERE uscc_status <> 'invalid' LIMIT 2000`,
  );
  // Entities held by an entity that is itself held by an entity: two levels of nesting to resolve.
  const nested = await sample(
    ctx,
    sql`SELECT e.uscc FROM shareholdings s1
          JOIN shareholdings s2 ON s2.entity_id = s1.shareholder_entity_id AND s2.ended_on IS NULL
                               AND s2.shareholder_kind = 'entity'
          JOIN entities e ON e.id = s1.entity_id
         WHERE s1.shareholder_kind = 'entity' AND s1.ended_on IS NULL AND e.uscc_status <> 'invalid'
         GROUP BY e.id, e.uscc ORDER BY md5(e.uscc) LIMIT 500`,
  );
  // UBO and control: entities with a corporate holder (the walk has somewhere to go) and as many with only
  // natural-person holders, so the figure is for a mix, not only the worst case.
  const owned = await sample(
    ctx,
    sql`(SELECT e.uscc FROM entities e
          WHERE e.uscc_status <> 'invalid' AND EXISTS (SELECT 1 FROM shareholdings s
                  WHERE s.entity_id = e.id AND s.ended_on IS NULL AND s.shareholder_kind = 'entity')
          ORDER BY md5(e.uscc) LIMIT 250)
        UNION ALL
        (SELECT e.uscc FROM entities e
          WHERE e.uscc_status <> 'invalid' AND EXISTS (SELECT 1 FROM shareholdings s
                  WHERE s.entity_id = e.id AND s.ended_on IS NULL)
            AND NOT EXISTS (SELECT 1 FROM shareholdings s
                  WHERE s.entity_id = e.id AND s.ended_on IS NULL AND s.shareholder_kind = 'entity')
          ORDER BY md5(e.uscc) LIMIT 250)`,
  );
  // The worst case: the bottom of every deep chain and every member of a cross-holding cycle.
  const valid = new Set(
    await sample(
      ctx,
      sql`SELECT uscc FROM entities WHERE uscc = ANY(${sql.param([...m.chains.flat(), ...m.cycles.flat()])}::text[])
            AND uscc_status <> 'invalid'`,
    ),
  );
  const deep = [...m.chains.map((c) => c[0]!), ...m.cycles.flat()].filter((u) => valid.has(u));
  console.log(
    `legal-entity samples: ${codes.length} codes, ${nested.length} two-level holdings, ${owned.length} owned entities, ` +
      `${deep.length} chain bottoms and cycle members`,
  );
  if (codes.length === 0 || nested.length === 0 || owned.length === 0 || deep.length === 0) {
    throw new Error('bench: too few entities for the legal-entity suite (raise --entities)');
  }

  const n = (full: number, quick: number) => (ctx.quick ? quick : full);
  const via = (query: string, list: string[], count: number, name: string) => () =>
    timeEach(name, count, (i) => post(gateway, query, { u: list[i % list.length] }, headers));
  const raw = (list: string[], count: number, name: string, op: (uscc: string) => Promise<unknown>) => () =>
    timeEach(name, count, (i) => op(list[i % list.length]!));

  const byUscc = await compare(
    'legal-entity',
    3,
    via(BY_USCC, codes, n(1500, 300), 'entity(uscc) via gateway'),
    raw(codes, n(1500, 300), 'same SELECT, raw SQL', (u) => rows(db, entityByUscc(u))),
  );
  const nestedOwnership = await compare(
    'legal-entity',
    3,
    via(NESTED, nested, n(400, 100), 'entity → shareholders → their shareholders (2 levels) via gateway'),
    raw(nested, n(400, 100), 'same 5 statements, raw SQL', (u) => nestedRaw(ctx, u)),
  );
  const ubo = await compare(
    'legal-entity',
    3,
    via(UBO, owned, n(400, 100), `ultimateBeneficialOwners(${UBO_THRESHOLD}) via gateway`),
    raw(owned, n(400, 100), 'same recursive CTE, raw SQL', (u) =>
      ownershipRaw(ctx, u, (id) => beneficialOwnersSql([id], UBO_THRESHOLD, UBO_DEPTH)),
    ),
  );
  const uboDeep = await compare(
    'legal-entity',
    3,
    via(UBO, deep, n(200, 60), 'UBO of deep-chain bottoms and cycle members via gateway'),
    raw(deep, n(200, 60), 'same recursive CTE, raw SQL', (u) =>
      ownershipRaw(ctx, u, (id) => beneficialOwnersSql([id], UBO_THRESHOLD, UBO_DEPTH)),
    ),
  );
  const control = await compare(
    'legal-entity',
    3,
    via(CONTROL, [...deep, ...owned], n(400, 100), 'controlChain via gateway'),
    raw([...deep, ...owned], n(400, 100), 'same recursive CTE, raw SQL', (u) =>
      ownershipRaw(ctx, u, (id) => controlChainSql([id], CONTROL_SHARE, UBO_DEPTH)),
    ),
  );
  return [byUscc, nestedOwnership, ubo, uboDeep, control];
}

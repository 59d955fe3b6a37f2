import { sql } from 'drizzle-orm';
import { DEMO_PRINCIPALS } from '../../src/access/demo.ts';
import { loadConfig } from '../../src/config.ts';
import { codecFor } from '../../src/crypto/at-rest.ts';
import { rows } from '../../src/db/index.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import type { BenchContext } from './context.ts';
import { type Comparison, compare, type Measurement, timeEach } from './harness.ts';

const PERSON_BY_ID = `query($id: String!) { person(idNumber: $id) {
  name idNumber gender birthDate residenceDivisionCode residenceAddress phone } }`;
/** The ID number's blind index (computed beforehand) finds the row; the raw read decrypts nothing. */
const RAW_PERSON_BY_ID = `SELECT name, id_number, gender, birth_date, residence_division_code, residence_address, phone
  FROM persons WHERE id_number_bidx = $1`;

const PERSONS_BY_DIVISION = `query($code: String!) { persons(divisionCode: $code, first: 100) {
  edges { node { name idNumber birthDate gender } } } }`;

/** Sample ID numbers in clear (TABLESAMPLE: no full scan of a large table; stored encrypted, decrypted here). */
async function sampleIds(ctx: BenchContext): Promise<string[]> {
  const codec = codecFor(ctx.db);
  return (
    await rows<{ idNumber: string }>(
      ctx.db,
      sql`SELECT id_number AS "idNumber" FROM persons TABLESAMPLE SYSTEM (5) LIMIT 2000`,
    )
  ).map((r) => codec.decodeValue(r.idNumber)!);
}

/**
 * `--only population` / `--only access` pick the reads or the access suite; both run without --only.
 */
export async function benchPopulationReads(
  ctx: BenchContext,
  suites: { population: boolean; access: boolean } = { population: true, access: true },
): Promise<Comparison[]> {
  return [
    ...(suites.population ? await benchReads(ctx) : []),
    ...(suites.access ? await benchAccess(ctx) : []),
  ];
}

/** person-by-ID and persons-by-division through the gateway against the same reads in raw SQL. */
async function benchReads(ctx: BenchContext): Promise<Comparison[]> {
  const { db, gateway, post } = ctx;
  const ids = await sampleIds(ctx);
  const keys = ids.map((id) => codecFor(db).blindIndexFor('persons', 'id_number', id));
  const counties = (
    await rows<{ code: string }>(
      db,
      sql`SELECT residence_division_code AS code FROM persons GROUP BY 1 ORDER BY count(*) DESC LIMIT 50`,
    )
  ).map((r) => r.code.slice(0, 6));
  const key = DEMO_PRINCIPALS.nationalPublicSecurity.key;
  const headers = { authorization: `Bearer ${key}`, 'x-purpose': 'criminal_investigation' };
  const n = Math.min(ids.length, ctx.quick ? 300 : 1500);

  const byId = await compare(
    'population',
    3,
    () =>
      timeEach('person(idNumber) via gateway', n, (i) =>
        post(gateway, PERSON_BY_ID, { id: ids[i % ids.length] }, headers),
      ),
    () => timeEach('same SELECT, raw SQL', n, (i) => db.query(RAW_PERSON_BY_ID, [keys[i % keys.length]])),
  );

  const byDivision = await compare(
    'population',
    3,
    () =>
      timeEach('persons(divisionCode, first: 100) via gateway', ctx.quick ? 50 : 200, (i) =>
        post(gateway, PERSONS_BY_DIVISION, { code: counties[i % counties.length] }, headers),
      ),
    () =>
      timeEach('same page, raw SQL', ctx.quick ? 50 : 200, (i) => {
        const code = counties[i % counties.length]!;
        return db.query(
          `SELECT name, id_number, birth_date, gender FROM persons
            WHERE residence_division_code BETWEEN $1 AND $2 ORDER BY id LIMIT 101`,
          [code, `${code}999999`],
        );
      }),
  );

  return [byId, byDivision];
}

/** `count` operations by `clients` concurrent callers, each waiting for its previous answer. */
async function timeConcurrent(
  name: string,
  count: number,
  clients: number,
  op: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  const run = async (total: number, times: number[] | null) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < total) {
          const i = next++;
          const t0 = performance.now();
          await op(i);
          times?.push(performance.now() - t0);
        }
      }),
    );
  };
  await run(clients * 5, null);
  const times: number[] = [];
  const start = performance.now();
  await run(count, times);
  const seconds = (performance.now() - start) / 1000;
  times.sort((a, b) => a - b);
  return {
    name,
    count,
    seconds,
    perSecond: count / seconds,
    medianMs: times[Math.floor(times.length / 2)],
    p95Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))],
  };
}

/** A gateway built with some GOVBASE_AUDIT_* variables set (the audit writer reads them when created). */
function gatewayWith(ctx: BenchContext, env: Record<string, string>, options: { audit?: boolean } = {}) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return createGateway({ db: ctx.db, config: { ...loadConfig(), mode: 'production' }, ...options });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const AUDIT_PROBE = 'bench_audit_probe';

/**
 * The access suite: what the access layer and the audit cost a by-ID lookup.
 *
 * - one client, one request at a time: the audit is one durable COMMIT (one WAL flush) per request, which
 *   no batching can share; then the access layer alone (audit off);
 * - where a sequential request's time goes: an audit-sized INSERT + COMMIT with the WAL flushed
 *   (synchronous_commit on, what the audit does) against the same without waiting for the flush;
 * - 8 and 32 concurrent clients: records that arrive while a batch is being written share its COMMIT (group
 *   commit), so the flush a lone client waits for is paid once per batch.
 */
async function benchAccess(ctx: BenchContext): Promise<Comparison[]> {
  const { db, post } = ctx;
  const ids = await sampleIds(ctx);
  const key = DEMO_PRINCIPALS.nationalPublicSecurity.key;
  const headers = { authorization: `Bearer ${key}`, 'x-purpose': 'criminal_investigation' };
  const n = Math.min(ids.length, ctx.quick ? 300 : 1500);
  const byId = (g: Gateway, h: Record<string, string>) => (i: number) =>
    post(g, PERSON_BY_ID, { id: ids[i % ids.length] }, h);
  const accessOnly = gatewayWith(ctx, {}, { audit: false });

  const rounds = ctx.quick ? 3 : 5;
  // A fresh gateway, so its writer's statistics cover this run only: how long a request waits for its record.
  const single = gatewayWith(ctx, {});
  const sequential = await compare(
    'access',
    rounds,
    () => timeEach('person(idNumber): access + audit on, 1 client', n, byId(single, headers)),
    () => timeEach('person(idNumber): access + audit off', n, byId(ctx.gatewayOpen, {})),
  );
  const waited = single.audit!.stats;
  sequential.note = `aim < 1.20; of the audited request, waiting for its durable record: mean ${(waited.waitMs / Math.max(1, waited.records)).toFixed(2)} ms`;
  const accessLayer = await compare(
    'access',
    rounds,
    () => timeEach('person(idNumber): access on, audit off', n, byId(accessOnly, headers)),
    () => timeEach('person(idNumber): access + audit off', n, byId(ctx.gatewayOpen, {})),
    'the access layer alone',
  );

  // Where the audit's time goes: the same INSERT + COMMIT with and without waiting for the WAL flush.
  await db.exec(
    `DROP TABLE IF EXISTS ${AUDIT_PROBE}; CREATE TABLE ${AUDIT_PROBE} (LIKE audit_log INCLUDING ALL)`,
  );
  let probeSeq = 0;
  const probe = (commit: 'on' | 'off') => () =>
    db.transaction(async (tx) => {
      probeSeq++;
      await tx.query(`SELECT set_config('synchronous_commit', $1, true)`, [commit]);
      await tx.query(
        `INSERT INTO ${AUDIT_PROBE} (seq, at, principal, department_code, purpose, channel, operation, document_hash,
           fields, row_counts, subjects, outcome, prev_hash, hash)
         VALUES ($1, now(), 'key:gbk_demo03', 'MPS', 'criminal_investigation', 'graphql', NULL, $2,
           '{"Person.name":{"allow":1},"Person.phone":{"allow":1}}', '{"Person":1}', ARRAY[$3], 'ok', $2, $2)`,
        [probeSeq, 'a'.repeat(64), `person:${probeSeq}`],
      );
    });
  const flush = await compare(
    'access',
    rounds,
    () => timeEach('audit-sized INSERT + COMMIT, WAL flushed (synchronous_commit on)', n, probe('on')),
    () => timeEach('same, COMMIT without waiting for the flush (off)', n, probe('off')),
    'the durable COMMIT',
  );
  await db.exec(`DROP TABLE ${AUDIT_PROBE}`);

  const clients = 8;
  // Fresh gateways, so their writers' batch statistics cover the concurrent runs only.
  const grouped = gatewayWith(ctx, {});
  const lingerZero = gatewayWith(ctx, { GOVBASE_AUDIT_LINGER_MS: '0' });
  const batchNote = (g: Gateway) => {
    const stats = g.audit!.stats;
    return `${(stats.records / Math.max(1, stats.batches)).toFixed(1)} records per COMMIT, largest ${stats.largestBatch}`;
  };
  const concurrent = await compare(
    'access',
    rounds,
    () =>
      timeConcurrent(
        `person(idNumber): access + audit on, ${clients} clients`,
        n,
        clients,
        byId(grouped, headers),
      ),
    () =>
      timeConcurrent(
        `person(idNumber): access + audit off, ${clients} clients`,
        n,
        clients,
        byId(ctx.gatewayOpen, {}),
      ),
  );
  concurrent.note = `group commit: ${batchNote(grouped)} (linger ≤ 2 ms and ≤ half a commit)`;
  const concurrentNoLinger = await compare(
    'access',
    rounds,
    () =>
      timeConcurrent(
        `person(idNumber): access + audit on, ${clients} clients, linger 0`,
        n,
        clients,
        byId(lingerZero, headers),
      ),
    () =>
      timeConcurrent(
        `person(idNumber): access + audit off, ${clients} clients`,
        n,
        clients,
        byId(ctx.gatewayOpen, {}),
      ),
  );
  concurrentNoLinger.note = `group commit: ${batchNote(lingerZero)} (lingerMs 0)`;
  // A busy service: more requests in flight share each flush, so the audit's cost per request falls.
  const busyClients = 32;
  const busy = gatewayWith(ctx, {});
  const busyService = await compare(
    'access',
    rounds,
    () =>
      timeConcurrent(
        `person(idNumber): access + audit on, ${busyClients} clients`,
        n,
        busyClients,
        byId(busy, headers),
      ),
    () =>
      timeConcurrent(
        `person(idNumber): access + audit off, ${busyClients} clients`,
        n,
        busyClients,
        byId(ctx.gatewayOpen, {}),
      ),
  );
  busyService.note = `group commit: ${batchNote(busy)}`;
  return [sequential, accessLayer, flush, concurrent, concurrentNoLinger, busyService];
}

import {
  type Cipher,
  createCipheriv,
  createDecipheriv,
  createHmac,
  type Decipher,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
import { DEMO_PRINCIPALS, installDemoAccess } from '../../src/access/demo.ts';
import type { Config } from '../../src/config.ts';
import { bindAtRest, codecFor, openAtRest, unencryptedCodecForBenchmarks } from '../../src/crypto/at-rest.ts';
import {
  blindIndex,
  type DataKey,
  decryptField,
  encryptField,
  newDataKey,
} from '../../src/crypto/field-cipher.ts';
import { type Database, migrate, openDatabase, quoteIdent } from '../../src/db/index.ts';
import { createGateway, type Gateway } from '../../src/gateway/server.ts';
import { generatePopulation } from '../../src/ingest/generate/population.ts';
import { loadReferenceData } from '../../src/ingest/reference-data.ts';
import type { BenchContext } from './context.ts';
import { type Comparison, compare, type Measurement, timeBulk, timeEach } from './harness.ts';

/**
 * Suite `crypto`: the cost of the encryption at rest, measured in one run against the same code with the
 * cryptography taken out. Two fresh databases get the same synthetic population (same seed): one with the
 * real codec (SM4 + HMAC-SM3 per value, blind indexes), one with the benchmark-only codec that stores values
 * as given and uses the normalised value as its "blind index" — same columns, same indexes, same SQL, no
 * cryptography. Nothing else differs; the unencrypted codec exists for this comparison only.
 *
 * - generator: persons/s into each (encryption happens in the COPY stream);
 * - person(idNumber) through the deployed gateway (authentication, access, audit): blind index + 4
 *   decryptions against a plain equality lookup;
 * - a 1000-row persons page with 4 encrypted fields a row (4000 decryptions) against the same page in clear.
 */

const PERSON_BY_ID = `query($id: String!) { person(idNumber: $id) {
  name idNumber gender birthDate residenceDivisionCode residenceAddress hukouAddress phone } }`;
const PAGE = `query($code: String!) { persons(divisionCode: $code, first: 1000) {
  edges { node { name idNumber gender birthDate residenceAddress hukouAddress phone } } } }`;
const TABLES = ['persons', 'households', 'household_members', 'residences', 'vital_events', 'change_log'];

async function openSide(suffix: string): Promise<Database> {
  const url = process.env.DATABASE_URL;
  let db: Database;
  if (!url) db = await openDatabase({ dataDir: 'memory://' });
  else {
    const name = `${process.env.GOVBASE_BENCH_DB ?? 'govbase_bench'}_${suffix}`;
    const admin = await openDatabase({ url, poolSize: 1 });
    await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await admin.exec(`CREATE DATABASE ${quoteIdent(name)}`);
    await admin.close();
    const parsed = new URL(url);
    parsed.pathname = `/${name}`;
    db = await openDatabase({ url: parsed.toString(), poolSize: 10 });
  }
  await migrate(db);
  await loadReferenceData(db);
  await installDemoAccess(db);
  return db;
}

async function dropSide(db: Database, suffix: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500)); // the audit writer's last batch
  await db.close();
  const url = process.env.DATABASE_URL;
  if (!url) return;
  const admin = await openDatabase({ url, poolSize: 1 });
  const name = `${process.env.GOVBASE_BENCH_DB ?? 'govbase_bench'}_${suffix}`;
  await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.close();
}

/**
 * The previous, OpenSSL-based field cipher (one SM4-ECB context per key and direction, CBC chaining in JS,
 * `createHmac('sm3')` per value), kept here only as the reference the TypeScript primitives are measured
 * against. Same stored bytes; not used by any production path.
 */
export const opensslReference = (() => {
  const contexts = new WeakMap<DataKey, { encrypt: Cipher; decrypt: Decipher }>();
  const contextsOf = (key: DataKey) => {
    let c = contexts.get(key);
    if (!c) {
      c = {
        encrypt: createCipheriv('sm4-ecb', key.encKey, null).setAutoPadding(false),
        decrypt: createDecipheriv('sm4-ecb', key.encKey, null).setAutoPadding(false),
      };
      contexts.set(key, c);
    }
    return c;
  };
  // IVs from a CSPRNG pool, as before.
  const ivPool = Buffer.allocUnsafe(64 * 16);
  let ivTaken = ivPool.length;
  const mac = (key: DataKey, body: Buffer) =>
    createHmac('sm3', key.macKey).update(`sm4.${key.version}.`).update(body).digest();
  return {
    encryptField(key: DataKey, plaintext: string): string {
      const c = contextsOf(key);
      const data = Buffer.from(plaintext, 'utf8');
      const pad = 16 - (data.length % 16);
      const blocks = (data.length + pad) / 16;
      const body = 16 + blocks * 16;
      const out = Buffer.allocUnsafe(body + 32);
      if (ivTaken === ivPool.length) {
        randomFillSync(ivPool);
        ivTaken = 0;
      }
      ivPool.copy(out, 0, ivTaken, ivTaken + 16);
      ivPool.fill(0, ivTaken, ivTaken + 16);
      ivTaken += 16;
      const block = Buffer.allocUnsafe(16);
      for (let j = 0, at = 16; j < blocks; j++, at += 16) {
        for (let i = 0; i < 16; i++) {
          const p = j * 16 + i;
          block[i] = (p < data.length ? data[p]! : pad) ^ out[at - 16 + i]!;
        }
        c.encrypt.update(block).copy(out, at);
      }
      mac(key, out.subarray(0, body)).copy(out, body);
      return `sm4.${key.version}.${out.toString('base64url')}`;
    },
    decryptField(key: DataKey, stored: string): string {
      const raw = Buffer.from(stored.slice(stored.indexOf('.', 4) + 1), 'base64url');
      const body = raw.length - 32;
      if (!timingSafeEqual(raw.subarray(body), mac(key, raw.subarray(0, body)))) throw new Error('MAC');
      const plain = contextsOf(key).decrypt.update(raw.subarray(16, body));
      for (let i = 0; i < plain.length; i++) plain[i] = plain[i]! ^ raw[i]!;
      return plain.toString('utf8', 0, plain.length - plain[plain.length - 1]!);
    },
    blindIndex(indexKey: Buffer, field: string, normalised: string): string {
      return createHmac('sm3', indexKey)
        .update(field)
        .update('\u0000')
        .update(normalised)
        .digest('base64url');
    },
  };
})();

/** Times `n` calls of `op` (after a warm-up) as a Measurement of values per second. */
function timeValues(name: string, n: number, op: () => void): Measurement {
  for (let i = 0; i < Math.min(n, 5000); i++) op();
  const t = performance.now();
  for (let i = 0; i < n; i++) op();
  const seconds = (performance.now() - t) / 1000;
  return { name, count: n, seconds, perSecond: n / seconds, medianMs: (seconds * 1000) / n };
}

/**
 * Per-value cost of the primitives alone: the TypeScript SM4/SM3 path against the OpenSSL reference, in
 * the same run, rounds alternated, best round of each. Also checks that both give the same answers.
 */
async function cipherMicros(
  quick: boolean,
): Promise<{ comparisons: Comparison[]; encrypt: number; decrypt: number }> {
  const key = newDataKey(1);
  const indexKey = randomBytes(32);
  const idNumber = '11010519491231002X';
  const address = '北京市朝阳区望京街道阜通东大街6号院3号楼2单元501室';
  const n = quick ? 20_000 : 100_000;
  for (const value of [idNumber, address]) {
    if (opensslReference.decryptField(key, encryptField(key, value)) !== value)
      throw new Error('crypto bench: encrypt differs');
    if (decryptField(() => key, opensslReference.encryptField(key, value)) !== value)
      throw new Error('crypto bench: decrypt differs');
    if (
      blindIndex(indexKey, 'citizenId', value) !== opensslReference.blindIndex(indexKey, 'citizenId', value)
    )
      throw new Error('crypto bench: blind index differs');
  }
  const cases: [string, (impl: 'ts' | 'openssl') => () => void][] = [];
  for (const [label, value] of [
    ['ID number', idNumber],
    ['address', address],
  ] as const) {
    const stored = encryptField(key, value);
    cases.push([
      `encryptField, ${label}`,
      (impl) =>
        impl === 'ts' ? () => encryptField(key, value) : () => opensslReference.encryptField(key, value),
    ]);
    cases.push([
      `decryptField, ${label}`,
      (impl) =>
        impl === 'ts'
          ? () => decryptField(() => key, stored)
          : () => opensslReference.decryptField(key, stored),
    ]);
  }
  cases.push([
    'blindIndex, ID number',
    (impl) =>
      impl === 'ts'
        ? () => blindIndex(indexKey, 'citizenId', idNumber)
        : () => opensslReference.blindIndex(indexKey, 'citizenId', idNumber),
  ]);
  const comparisons: Comparison[] = [];
  for (const [name, make] of cases) {
    const c = await compare(
      'crypto',
      3,
      async () => timeValues(`${name} (TypeScript SM4/SM3, values/s)`, n, make('ts')),
      async () => timeValues(`${name} (OpenSSL reference, values/s)`, n, make('openssl')),
    );
    c.note = `${((c.subject.seconds / c.subject.count) * 1e6).toFixed(2)} µs vs ${((c.baseline.seconds / c.baseline.count) * 1e6).toFixed(2)} µs a value`;
    comparisons.push(c);
  }
  const perValue = (c: Comparison) => (c.subject.seconds / c.subject.count) * 1e6;
  return { comparisons, encrypt: perValue(comparisons[2]!), decrypt: perValue(comparisons[3]!) };
}

export async function benchCrypto(ctx: BenchContext, config: Config, persons: number): Promise<Comparison[]> {
  const encrypted = await openSide('crypto');
  const plain = await openSide('plain');
  try {
    await openAtRest(encrypted, randomBytes(32));
    bindAtRest(plain, unencryptedCodecForBenchmarks());

    // Generator: each side generates the same population twice (emptied in between); the best round counts.
    const generate = (db: Database, name: string) => async (): Promise<Measurement> => {
      await db.exec(`TRUNCATE ${TABLES.join(', ')}`);
      return timeBulk(name, persons, () => generatePopulation(db, { persons, seed: 'bench-crypto' }));
    };
    const generator = await compare(
      'crypto',
      2,
      generate(encrypted, 'generate, encrypted (persons/s)'),
      generate(plain, 'generate, unencrypted (persons/s)'),
    );
    for (const db of [encrypted, plain]) await db.exec(`ANALYZE ${TABLES.join(', ')}`);

    const benchConfig = { ...config, mode: 'production' as const };
    const gateways: Record<'encrypted' | 'plain', Gateway> = {
      encrypted: createGateway({ db: encrypted, config: benchConfig }),
      plain: createGateway({ db: plain, config: benchConfig }),
    };
    const key = DEMO_PRINCIPALS.nationalPublicSecurity.key;
    const headers = { authorization: `Bearer ${key}`, 'x-purpose': 'criminal_investigation' };
    // The same persons on both sides (same seed): ID numbers in clear from the plain side.
    const ids = (
      await plain.query<{ id_number: string }>(
        'SELECT id_number FROM persons WHERE id % 7 = 0 ORDER BY id LIMIT 2000',
      )
    ).map((r) => r.id_number);
    const [province] = await plain.query<{ code: string }>(
      `SELECT left(residence_division_code, 2) || '0000' AS code FROM persons GROUP BY 1 HAVING count(*) >= 1000
        ORDER BY count(*) LIMIT 1`,
    );
    if (!province) throw new Error('crypto bench: no province with 1000 residents: raise --persons');
    const n = Math.min(ids.length, ctx.quick ? 300 : 1500);
    const byId = (side: 'encrypted' | 'plain', name: string) => () =>
      timeEach(name, n, (i) => ctx.post(gateways[side], PERSON_BY_ID, { id: ids[i % ids.length] }, headers));
    const personById = await compare(
      'crypto',
      3,
      byId('encrypted', 'person(idNumber), encrypted'),
      byId('plain', 'person(idNumber), unencrypted'),
    );
    const pages = ctx.quick ? 20 : 60;
    const page = (side: 'encrypted' | 'plain', name: string) => () =>
      timeEach(name, pages, () => ctx.post(gateways[side], PAGE, { code: province.code }, headers), 3);
    const thousand = await compare(
      'crypto',
      3,
      page('encrypted', `persons page of 1000 (${province.code}), encrypted`),
      page('plain', `persons page of 1000 (${province.code}), unencrypted`),
    );
    const micros = await cipherMicros(ctx.quick);
    const encryptedFields = 4;
    thousand.note = `${encryptedFields * 1000} decryptions a page; SM4+HMAC-SM3 alone ≈ ${micros.decrypt.toFixed(1)} µs a value`;
    generator.note = `≈ 7 encryptions and 3 blind indexes a person; alone ≈ ${micros.encrypt.toFixed(1)} µs an encryption`;
    // Sanity: the two sides hold the same persons.
    const [a] = await plain.query<{ name: string; id_number: string }>(
      'SELECT name, id_number FROM persons WHERE id = 1',
    );
    const [b] = await encrypted.query<{ name: string; id_number: string }>(
      'SELECT name, id_number FROM persons WHERE id = 1',
    );
    if (a?.name !== b?.name || codecFor(encrypted).decodeValue(b?.id_number) !== a?.id_number) {
      throw new Error('crypto bench: the two sides differ');
    }
    return [...micros.comparisons, generator, personById, thousand];
  } finally {
    await dropSide(encrypted, 'crypto');
    await dropSide(plain, 'plain');
  }
}

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, chainHash, verifyAuditChain } from '../src/access/audit.ts';
import { AnchorWriter, readCheckpoints } from '../src/access/audit-anchor.ts';
import { runAuditVerify } from '../src/access/audit-verify-cli.ts';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { sm3Hex } from '../src/access/sm3.ts';
import { openDatabase, type Queryable } from '../src/db/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { changeHub } from '../src/registries/legal-entity/change-feed.ts';
import { type TestDatabase, templateDb, testDatabase } from '../src/testing/database.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { type Seeded, seedAccessFixtures } from './access-fixtures.ts';
import { registerEntity } from './legal-entity-fixtures.ts';

/**
 * The access audit: one SM3-chained record per GraphQL request, written before the response leaves;
 * tampering is found and named; the table refuses plain updates; no audit, no data.
 */

let db: TestDatabase;
let gateway: Gateway;
let seeded: Seeded;

const COUNTY = asKey(DEMO_PRINCIPALS.countyCivilAffairs.key, 'social_assistance');
const COUNTY_PREFIX = 'gbk_demo01';

interface Row {
  seq: number;
  principal: string;
  department_code: string | null;
  purpose: string | null;
  channel: string;
  operation: string | null;
  document_hash: string | null;
  fields: Record<string, { allow?: number; mask?: number; deny?: number }>;
  row_counts: Record<string, number>;
  subjects: string[];
  outcome: string;
  prev_hash: string;
  hash: string;
}

async function auditRows(q: Queryable = db, after = 0): Promise<Row[]> {
  const rows = await q.query<Row>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq', [after]);
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function lastSeq(q: Queryable = db): Promise<number> {
  const [row] = await q.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM audit_log');
  return Number(row?.seq ?? 0);
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  seeded = await seedAccessFixtures(db);
});
afterAll(() => db?.dispose());

describe('one record per request', () => {
  it('records principal, department, purpose, operation, document hash, field decisions, rows and subjects', async () => {
    const before = await lastSeq();
    const query = `query CaseLookup($d: String!) { persons(divisionCode: $d, first: 10) {
      edges { node { name gender idNumber residenceAddress } } } }`;
    const r = await gql(gateway, query, { d: '110105' }, COUNTY);
    expect(r.errors).toBeUndefined();
    const [record, ...more] = await auditRows(db, before);
    expect(more).toHaveLength(0);
    expect(record).toMatchObject({
      seq: before + 1,
      principal: `key:${COUNTY_PREFIX}`,
      department_code: 'CA-110105',
      purpose: 'social_assistance',
      channel: 'graphql',
      operation: 'CaseLookup',
      document_hash: sm3Hex(query),
      outcome: 'ok',
    });
    const persons = r.data!.persons.edges.length;
    expect(persons).toBe(4);
    expect(record!.fields).toEqual({
      'Person.name': { allow: persons },
      'Person.gender': { allow: persons },
      'Person.idNumber': { mask: persons },
      'Person.residenceAddress': { mask: persons },
    });
    expect(record!.row_counts).toEqual({ Person: persons });
    // Subjects: the persons whose sensitive personal data was read (masked or not), sorted, by internal key.
    const inChaoyang = ['A', 'S1', 'S2', 'S3'].map((k) => `person:${seeded.persons[k]!.id}`).sort();
    expect(record!.subjects).toEqual(inChaoyang);
    // Nothing of the values themselves goes into the audit.
    expect(JSON.stringify(record)).not.toContain(seeded.persons.A!.idNumber);
    expect(JSON.stringify(record)).not.toContain('李');
  });

  it('records refusals and partial answers too, and no subjects when no sensitive field was read', async () => {
    const before = await lastSeq();
    const refused = await gql(gateway, `query Peek { persons(divisionCode: "110105") { totalCount } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    const partial = await gql(
      gateway,
      `query Partial { persons(divisionCode: "440106") { edges { node { gender phone } } } }`,
      {},
      asKey(DEMO_PRINCIPALS.provincialMarketRegulation.key),
    );
    expect(partial.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_FIELD');
    const [first, second] = await auditRows(db, before);
    expect(first).toMatchObject({
      principal: 'public',
      department_code: null,
      purpose: null,
      operation: 'Peek',
      subjects: [],
      fields: {},
      row_counts: {},
    });
    // Refused outright, yet recorded as 'partial': the audit plugin calls any result with a data object
    // partial, even { persons: null }. Not 'ok' is what matters here (reported as a gap).
    expect(['error', 'partial']).toContain(first!.outcome);
    expect(second).toMatchObject({
      principal: 'key:gbk_demo02',
      department_code: 'SAMR-440000',
      operation: 'Partial',
      outcome: 'partial',
      subjects: [],
    });
    expect(second!.fields).toEqual({ 'Person.gender': { allow: 3 }, 'Person.phone': { deny: 3 } });
  });

  it('records residence reads under the person they belong to', async () => {
    const before = await lastSeq();
    await gql(
      gateway,
      `query Moves($id: String!) { person(idNumber: $id) { residences { address } } }`,
      { id: seeded.persons.B!.idNumber },
      asKey(DEMO_PRINCIPALS.nationalPublicSecurity.key, 'criminal_investigation'),
    );
    const [record] = await auditRows(db, before);
    expect(record!.subjects).toEqual([`person:${seeded.persons.B!.id}`]);
    expect(record!.fields).toEqual({ 'Residence.address': { allow: 2 } });
    expect(record!.row_counts).toEqual({ Person: 1, Residence: 2 });
  });

  it('the chain verifies over every record', async () => {
    const total = await lastSeq();
    expect(total).toBeGreaterThan(3);
    const progress: number[] = [];
    const result = await verifyAuditChain(db, (n) => progress.push(n), 2);
    expect(result).toEqual({ ok: true, checked: total });
    expect(progress.at(-1)).toBe(total);
    const rows = await auditRows();
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
  });
});

describe('tampering', () => {
  /** Runs `tamper` as a DBA with DDL rights would (triggers off), verifies, and rolls everything back. */
  async function tampered(tamper: (tx: Queryable) => Promise<unknown>) {
    const rollback = new Error('rollback');
    let result: Awaited<ReturnType<typeof verifyAuditChain>> | undefined;
    await db
      .transaction(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
        await tamper(tx);
        await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
        result = await verifyAuditChain(tx);
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    expect((await verifyAuditChain(db)).ok).toBe(true);
    return result!;
  }

  it('an edited record is named, even when its own hash was recomputed to match', async () => {
    const edited = await tampered((tx) =>
      tx.query(`UPDATE audit_log SET purpose = 'criminal_investigation' WHERE seq = 2`),
    );
    expect(edited).toMatchObject({ ok: false, checked: 1, firstBad: { seq: 2 } });
    expect(edited.firstBad!.problem).toMatch(/edited/);

    // A careful forger recomputes the record's hash: the next record's link then breaks.
    const [row] = await db.query<Row & { at: string }>(
      `SELECT *, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM audit_log WHERE seq = 2`,
    );
    const forged = chainHash(row!.prev_hash, {
      seq: 2,
      at: row!.at,
      principal: row!.principal,
      departmentCode: row!.department_code,
      purpose: 'criminal_investigation',
      channel: row!.channel as 'graphql',
      operation: row!.operation,
      documentHash: row!.document_hash,
      fields: row!.fields,
      rowCounts: row!.row_counts,
      subjects: row!.subjects,
      outcome: row!.outcome as 'ok',
    });
    const rehashed = await tampered((tx) =>
      tx.query(`UPDATE audit_log SET purpose = 'criminal_investigation', hash = $1 WHERE seq = 2`, [forged]),
    );
    expect(rehashed).toMatchObject({ ok: false, firstBad: { seq: 3 } });
    expect(rehashed.firstBad!.problem).toMatch(/link/);
  });

  it('a deleted record is named', async () => {
    const result = await tampered((tx) => tx.query('DELETE FROM audit_log WHERE seq = 3'));
    expect(result).toMatchObject({ ok: false, checked: 2, firstBad: { seq: 3 } });
    expect(result.firstBad!.problem).toMatch(/missing/);
  });

  it('two swapped records are named at the first of them', async () => {
    const result = await tampered(async (tx) => {
      await tx.query(
        `UPDATE audit_log a SET at = b.at, principal = b.principal, department_code = b.department_code,
                purpose = b.purpose, channel = b.channel, operation = b.operation, document_hash = b.document_hash,
                fields = b.fields, row_counts = b.row_counts, subjects = b.subjects, outcome = b.outcome,
                prev_hash = b.prev_hash, hash = b.hash
           FROM (SELECT * FROM audit_log WHERE seq IN (2, 4)) b
          WHERE a.seq IN (2, 4) AND b.seq = 6 - a.seq`,
      );
    });
    expect(result).toMatchObject({ ok: false, checked: 1, firstBad: { seq: 2 } });
  });

  it('plain UPDATE, DELETE and TRUNCATE are refused by the table itself', async () => {
    await expect(db.query(`UPDATE audit_log SET purpose = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});

describe('npm run audit:verify', () => {
  it('prints OK with the record count, or TAMPERED naming the first bad record, and exits 0 or 1', async () => {
    const total = await lastSeq();
    const lines: string[] = [];
    const progress: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      progress: (n: number, t: number) => progress.push(`${n}/${t}`),
    };
    expect(await runAuditVerify(db, io, { pageSize: 3 })).toBe(0);
    const [head] = await auditRows(db, total - 1);
    expect(lines).toEqual([`OK: ${total} records`, `HEAD seq=${total} hash=${head!.hash}`]);
    expect(progress[0]).toBe(`0/${total}`);
    expect(progress.at(-1)).toBe(`${total}/${total}`);

    let code = -1;
    const rollback = new Error('rollback');
    await db
      .transaction(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
        await tx.query(`UPDATE audit_log SET operation = 'Innocent' WHERE seq = 3`);
        lines.length = 0;
        code = await runAuditVerify(tx, io);
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    expect(code).toBe(1);
    expect(lines).toEqual(['TAMPERED: first bad record seq=3: its content does not match its hash (edited)']);
  });

  /** The script itself, in its own process, on a database of its own on the server. (On PGlite each run
   * starts the embedded database with PostGIS, which is slow on a busy machine; the module above is the
   * same code.) */
  it.runIf(process.env.DATABASE_URL)(
    'runs as a script against the server database',
    async () => {
      const url = process.env.DATABASE_URL!;
      const name = `govbase_audit_script_${process.pid}`;
      const named = (database: string) => {
        const u = new URL(url);
        u.pathname = `/${database}`;
        return u.toString();
      };
      const admin = await openDatabase({ url: named('postgres'), poolSize: 1 });
      await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.exec(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`);
      await admin.close();
      const anchorFile = join(mkdtempSync(join(tmpdir(), 'govbase-anchor-')), 'audit-anchors.jsonl');
      const run = (...args: string[]) => {
        const { GOVBASE_DATA_DIR: _dir, ...env } = process.env;
        return spawnSync('npx', ['tsx', 'scripts/audit-verify.ts', ...args], {
          cwd: new URL('..', import.meta.url).pathname,
          env: { ...env, DATABASE_URL: named(name), GOVBASE_AUDIT_ANCHOR_FILE: anchorFile },
          encoding: 'utf8',
          timeout: 120_000,
        });
      };
      const dbaExec = async (sql: string) => {
        const dba = await openDatabase({ url: named(name), poolSize: 1 });
        try {
          await dba.exec(
            `ALTER TABLE audit_log DISABLE TRIGGER USER; ${sql}; ALTER TABLE audit_log ENABLE TRIGGER USER;`,
          );
        } finally {
          await dba.close();
        }
      };
      try {
        const conn = await openDatabase({ url: named(name), poolSize: 2 });
        try {
          const log = new AuditLog(conn);
          await Promise.all(
            Array.from({ length: 7 }, (_, i) =>
              log.append({
                principal: 'system:test',
                departmentCode: null,
                purpose: null,
                channel: 'script',
                operation: `write${i}`,
                documentHash: null,
                fields: {},
                rowCounts: {},
                subjects: [],
                outcome: 'ok',
              }),
            ),
          );
        } finally {
          await conn.close();
        }
        const ok = run();
        const okLines = ok.stdout.trim().split('\n');
        expect(okLines[0], ok.stderr).toBe('OK: 7 records');
        expect(okLines[1]).toMatch(/^HEAD seq=7 hash=[0-9a-f]{64}$/);
        expect(okLines[2]).toBe(`CHECKPOINT seq=7 appended to ${anchorFile}`);
        expect(ok.status).toBe(0);
        expect(ok.stderr).toContain('7/7 records');

        // The last two records cut off: the chain that is left still verifies, the checkpoint does not hold.
        await dbaExec('DELETE FROM audit_log WHERE seq > 5');
        const cut = run('--anchor');
        const cutLines = cut.stdout.trim().split('\n');
        expect(cutLines[0], cut.stderr).toBe('OK: 5 records');
        expect(cutLines[2]).toMatch(
          /^TRUNCATED: the chain ends at seq=5 but a checkpoint of .* recorded seq=7: records 6\.\.7/,
        );
        expect(cutLines).toHaveLength(3); // no new checkpoint of a truncated chain
        expect(cut.status).toBe(1);

        await dbaExec('DELETE FROM audit_log WHERE seq = 4');
        const bad = run();
        expect(bad.stdout.trim(), bad.stderr).toBe(
          'TAMPERED: first bad record seq=4: record 4 is missing (next is 5)',
        );
        expect(bad.status).toBe(1);
      } finally {
        const cleanup = await openDatabase({ url: named('postgres'), poolSize: 1 });
        await cleanup.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => cleanup.close());
      }
      // Three child processes, each starting tsx: a minute or more when the 2 cores are shared.
    },
    400_000,
  );
});

describe('anchors: a cut at the end of the chain', () => {
  const io = () => {
    const lines: string[] = [];
    return { lines, out: (l: string) => lines.push(l), progress: () => undefined };
  };
  const tempFile = () => join(mkdtempSync(join(tmpdir(), 'govbase-anchor-')), 'anchors.jsonl');

  /** Runs `work` on a copy of the chain that a DBA has tampered with (triggers off), then rolls it back. */
  async function onTampered(tamper: string, work: (tx: Queryable) => Promise<void>) {
    const rollback = new Error('rollback');
    await db
      .transaction(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER');
        await tx.query(tamper);
        await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER');
        await work(tx);
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
  }

  it('deleting the last records after a checkpoint is named by audit:verify --anchor', async () => {
    const file = tempFile();
    const total = await lastSeq();
    const first = io();
    expect(await runAuditVerify(db, first, { anchorFile: file, compare: true })).toBe(0);
    expect(first.lines.slice(2)).toEqual([
      `ANCHORED: no checkpoints in ${file} yet`,
      `CHECKPOINT seq=${total} appended to ${file}`,
    ]);

    await onTampered(`DELETE FROM audit_log WHERE seq > ${total - 3}`, async (tx) => {
      // Without the anchor the shortened chain looks whole: that is the gap the checkpoint closes.
      const blind = io();
      expect(await runAuditVerify(tx, blind, { anchorFile: file, record: false })).toBe(0);
      expect(blind.lines[0]).toBe(`OK: ${total - 3} records`);
      const anchored = io();
      expect(await runAuditVerify(tx, anchored, { anchorFile: file, compare: true })).toBe(1);
      expect(anchored.lines[0]).toBe(`OK: ${total - 3} records`);
      expect(anchored.lines[2]).toMatch(
        new RegExp(
          `^TRUNCATED: the chain ends at seq=${total - 3} but a checkpoint of .* \\(audit:verify\\) recorded ` +
            `seq=${total}: records ${total - 2}\\.\\.${total} at least were removed from its end$`,
        ),
      );
      expect(anchored.lines).toHaveLength(3);
    });
    // Untouched, the chain holds against its checkpoint.
    const after = io();
    expect(await runAuditVerify(db, after, { anchorFile: file, compare: true, record: false })).toBe(0);
    expect(after.lines[2]).toMatch(new RegExp(`^ANCHORED: 1 checkpoints hold \\(latest seq=${total} of `));
  });

  it('a chain rebuilt from before a checkpoint (last record replaced, hashes recomputed) is named', async () => {
    const file = tempFile();
    const total = await lastSeq();
    expect(await runAuditVerify(db, io(), { anchorFile: file })).toBe(0);
    const [last] = await db.query<Row & { at: string }>(
      `SELECT *, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM audit_log WHERE seq = $1`,
      [total],
    );
    const forged = chainHash(last!.prev_hash, {
      seq: total,
      at: last!.at,
      principal: 'public',
      departmentCode: null,
      purpose: null,
      channel: 'graphql',
      operation: 'Innocent',
      documentHash: null,
      fields: {},
      rowCounts: {},
      subjects: [],
      outcome: 'ok',
    });
    await onTampered(
      `UPDATE audit_log SET principal = 'public', department_code = NULL, purpose = NULL, channel = 'graphql',
         operation = 'Innocent', document_hash = NULL, fields = '{}', row_counts = '{}', subjects = '{}',
         outcome = 'ok', arguments = NULL, hash = '${forged}' WHERE seq = ${total}`,
      async (tx) => {
        expect((await verifyAuditChain(tx)).ok).toBe(true); // a consistent chain…
        const out = io();
        expect(await runAuditVerify(tx, out, { anchorFile: file, compare: true })).toBe(1);
        expect(out.lines[2]).toMatch(
          new RegExp(
            `^REWRITTEN: record ${total} does not match the checkpoint of .*: the chain was rebuilt$`,
          ),
        );
      },
    );
  });

  it("the gateway's writer appends checkpoints; with a key, an altered checkpoint is refused", async () => {
    const file = tempFile();
    const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const log = new AuditLog(db, { anchor: { file, intervalMs: 0, key } });
    for (let i = 0; i < 3; i++) {
      await log.append({
        principal: 'system:test',
        departmentCode: null,
        purpose: null,
        channel: 'script',
        operation: `anchored${i}`,
        documentHash: null,
        fields: {},
        rowCounts: {},
        subjects: [],
        outcome: 'ok',
      });
    }
    await log.anchor!.flush();
    const total = await lastSeq();
    const { checkpoints, bad } = await readCheckpoints(file, key);
    expect(bad).toEqual([]);
    expect(checkpoints.at(-1)).toMatchObject({ seq: total, source: `gateway:${process.pid}` });
    expect(checkpoints.at(-1)!.mac).toMatch(/^[0-9a-f]{64}$/);
    const ok = io();
    expect(
      await runAuditVerify(db, ok, { anchorFile: file, anchorKey: key, compare: true, record: false }),
    ).toBe(0);

    // Someone lowers the checkpoint to hide a later cut: without the key the MAC cannot follow.
    const text = readFileSync(file, 'utf8').trim().split('\n');
    const lastLine = JSON.parse(text.at(-1)!) as { seq: number };
    text[text.length - 1] = JSON.stringify({ ...lastLine, seq: lastLine.seq - 1 });
    writeFileSync(file, `${text.join('\n')}\n`);
    const forged = io();
    expect(await runAuditVerify(db, forged, { anchorFile: file, anchorKey: key, compare: true })).toBe(1);
    expect(forged.lines).toContain(
      `ANCHOR FILE: line ${text.length} of ${file}: its MAC does not verify (forged or altered)`,
    );
    expect(forged.lines.some((l) => l.startsWith('CHECKPOINT'))).toBe(false);
  });

  it('a checkpoint writer never checkpoints an older head than it already wrote', async () => {
    const file = tempFile();
    const writer = new AnchorWriter(file, 0);
    writer.note({ seq: 5, hash: 'a'.repeat(64) });
    await writer.flush();
    writer.note({ seq: 4, hash: 'b'.repeat(64) });
    await writer.flush();
    const { checkpoints } = await readCheckpoints(file);
    expect(checkpoints.map((c) => c.seq)).toEqual([5]);
  });
});

describe('no audit, no data', () => {
  it('withholds the data and answers AUDIT_UNAVAILABLE when the record cannot be written', async () => {
    const query = `query Lookup { persons(divisionCode: "110105") { edges { node { name hukouAddress } } } }`;
    await db.exec('ALTER TABLE audit_log RENAME TO audit_log_x');
    let r: Awaited<ReturnType<typeof gql>>;
    try {
      r = await gql(gateway, query, {}, COUNTY);
    } finally {
      await db.exec('ALTER TABLE audit_log_x RENAME TO audit_log');
    }
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
    expect(r.data ?? null).toBeNull();
    expect(r.status).toBe(503);
    const text = JSON.stringify(r);
    for (const secret of ['李爱丽', '建国路', '孙晓燕']) expect(text).not.toContain(secret);
    // Once the log is back, the same request is served and recorded, and the chain is whole.
    const again = await gql(gateway, query, {}, COUNTY);
    expect(again.errors).toBeUndefined();
    expect(JSON.stringify(again)).toContain('建国路');
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});

describe('concurrency', () => {
  it('50 concurrent requests, through two gateways, make 50 consecutive records that verify', async () => {
    const second = await testGateway(db);
    const before = await lastSeq();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        gql(
          i % 2 ? second : gateway,
          `query Concurrent${i} { persons(divisionCode: "110105", first: 2) { edges { node { name residenceAddress } } } }`,
          {},
          COUNTY,
        ),
      ),
    );
    for (const r of responses) expect(r.errors).toBeUndefined();
    const rows = await auditRows(db, before);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => before + 1 + i));
    expect(new Set(rows.map((r) => r.operation))).toEqual(
      new Set(Array.from({ length: 50 }, (_, i) => `Concurrent${i}`)),
    );
    expect(await verifyAuditChain(db)).toEqual({ ok: true, checked: before + 50 });
  });
});

/** An SSE subscription through the gateway: collects the `next` payloads until closed. */
async function subscribe(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await gateway.fetch('http://govbase.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const events: { data?: Record<string, any> | null; errors?: { extensions?: { code?: string } }[] }[] = [];
  /** The last audit seq at the moment each event reached the client. */
  const seqAtDelivery: number[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (/^event: complete/m.test(block)) ended = true;
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (data && !/^event: complete/m.test(block)) {
            seqAtDelivery.push(await lastSeq().catch(() => -1));
            events.push(JSON.parse(data));
          }
        }
      }
    } catch {
      // aborted
    } finally {
      ended = true;
    }
  })();
  return {
    status: response.status,
    events,
    seqAtDelivery,
    ended: () => ended,
    async close() {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      await pump;
    },
  };
}

async function until(predicate: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the writer (group commit, chain head in memory)', () => {
  const entry = (operation: string, purpose: string | null = null) => ({
    principal: 'system:test',
    departmentCode: null,
    purpose,
    channel: 'script' as const,
    operation,
    documentHash: null,
    fields: {},
    rowCounts: {},
    subjects: [],
    outcome: 'ok' as const,
  });

  it('re-reads the head only when another writer moved it, and the chain stays whole', async () => {
    const a = new AuditLog(db);
    const b = new AuditLog(db);
    const before = await lastSeq();
    await a.append(entry('a1'));
    await a.append(entry('a2'));
    expect(a.stats.headMoved).toBe(0); // its own head, kept in memory
    await b.append(entry('b1')); // b has no head yet: reads it, no conflict
    expect(b.stats.headMoved).toBe(0);
    const seq = await a.append(entry('a3')); // a's head is stale: the conditional INSERT says so
    expect(a.stats.headMoved).toBe(1);
    expect(seq).toBe(before + 4);
    await b.append(entry('b2'));
    expect(b.stats.headMoved).toBe(1);
    const rows = await auditRows(db, before);
    expect(rows.map((r) => r.operation)).toEqual(['a1', 'a2', 'b1', 'a3', 'b2']);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('writes records that arrive together as one batch, each resolved with its own seq', async () => {
    const log = new AuditLog(db);
    const before = await lastSeq();
    const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(entry(`g${i}`))));
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => before + 1 + i));
    // The first record goes alone (nothing else was waiting); the other 19 queue behind it.
    expect(log.stats.batches).toBeLessThanOrEqual(2);
    expect(log.stats.largestBatch).toBeGreaterThanOrEqual(19);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('lingers for requests still executing, and not at all when none is', async () => {
    // A slow disk (commits of 20 s assumed): the linger is bounded by lingerMs only.
    const log = new AuditLog(db, { lingerMs: 5_000, initialCommitMs: 20_000 });
    const slots = [log.slot(), log.slot(), log.slot()];
    const first = slots[0]!.append(entry('s0'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = slots[1]!.append(entry('s1'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    slots[2]!.release(); // ended without a record: the batch stops waiting for it
    await Promise.all([first, second]);
    expect(log.stats).toMatchObject({ batches: 1, records: 2 });
    const started = Date.now();
    await log.append(entry('alone'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(log.stats.batches).toBe(2);

    // A fast disk (commits of 0.2 ms): a batch lingers one turn of the event loop, not lingerMs.
    const quick = new AuditLog(db, { lingerMs: 5_000, initialCommitMs: 0.2 });
    const pending = quick.slot();
    const t0 = Date.now();
    await quick.append(entry('quick'));
    expect(Date.now() - t0).toBeLessThan(2_500);
    pending.release();
  });

  it('refuses a record the database cannot store on its own, without failing the others', async () => {
    const log = new AuditLog(db);
    const results = await Promise.allSettled([
      log.append(entry('fine1')),
      log.append(entry('poison', 'x\u0000y')),
      log.append(entry('fine2', '\uD800')),
      log.append(entry('fine3')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('does not offer synchronous_commit off', () => {
    expect(() => new AuditLog(db, { synchronousCommit: 'off' as never })).toThrow(/synchronousCommit/);
  });
});

describe('several processes', () => {
  it.runIf(process.env.DATABASE_URL)(
    'three processes appending at once make one chain with every record',
    async () => {
      const [{ name } = { name: '' }] = await db.query<{ name: string }>('SELECT current_database() AS name');
      const url = new URL(process.env.DATABASE_URL!);
      url.pathname = `/${name}`;
      const before = await lastSeq();
      const go = join(mkdtempSync(join(tmpdir(), 'govbase-writers-')), 'go');
      let ready = 0;
      const run = (label: string) =>
        new Promise<{ batches: number; records: number; headMoved: number }>((resolve, reject) => {
          const child = spawn(
            'npx',
            ['tsx', 'test/access-audit-writer.ts', url.toString(), label, '60', '4', go],
            { cwd: new URL('..', import.meta.url).pathname },
          );
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => {
            out += d;
            if (String(d).includes('ready') && ++ready === 3) writeFileSync(go, '');
          });
          child.stderr.on('data', (d) => {
            err += d;
          });
          child.on('close', (code) =>
            code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(err)),
          );
        });
      const stats = await Promise.all(['p1', 'p2', 'p3'].map(run));
      const rows = await auditRows(db, before);
      expect(rows).toHaveLength(180);
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 180 }, (_, i) => before + 1 + i));
      for (const label of ['p1', 'p2', 'p3']) {
        expect(rows.filter((r) => r.principal === `system:${label}`)).toHaveLength(60);
      }
      expect(stats.reduce((n, s) => n + s.records, 0)).toBe(180);
      expect((await verifyAuditChain(db)).ok).toBe(true);
      // The writers did meet: some batch found its cached head moved by another process and re-linked.
      const moved = stats.reduce((n, s) => n + s.headMoved, 0);
      console.log(
        `3 processes: ${stats.map((s) => `${s.records} records in ${s.batches} batches, head moved ${s.headMoved}×`).join('; ')}`,
      );
      expect(moved).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe('subscriptions', () => {
  const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key; // Guangdong
  const FEED = `subscription Watch($d: String) {
    entityChanged(divisionCode: $d, actions: [REGISTERED]) { uscc action entity { name legalRepresentativeName } } }`;

  it('records the set-up (principal, purpose, arguments, decision), then each delivered event before it is sent', async () => {
    const listeners = changeHub(db).size;
    const before = await lastSeq();
    const sub = await subscribe(FEED, { d: '440305' }, asKey(SAMR, 'market_supervision'));
    expect(sub.status).toBe(200);
    await until(() => changeHub(db).size === listeners + 1);
    const [setUp, ...none] = await auditRows(db, before);
    expect(none).toHaveLength(0);
    expect(setUp).toMatchObject({
      principal: 'key:gbk_demo02',
      department_code: 'SAMR-440000',
      purpose: 'market_supervision',
      channel: 'graphql',
      operation: 'Watch',
      document_hash: sm3Hex(FEED),
      outcome: 'ok',
      fields: {},
      row_counts: {},
    });
    const [{ arguments: args } = { arguments: null }] = await db.query<{ arguments: unknown }>(
      'SELECT arguments FROM audit_log WHERE seq = $1',
      [setUp!.seq],
    );
    expect(args).toEqual({ field: 'entityChanged', divisionCode: '440305', actions: ['registered'] });

    const first = await registerEntity(db, { name: '深圳市审计订阅一有限公司' });
    const second = await registerEntity(db, { name: '深圳市审计订阅二有限公司' });
    await until(() => sub.events.length >= 2);
    await sub.close();
    await until(() => changeHub(db).size === listeners);

    expect(sub.events.map((e) => e.data!.entityChanged.uscc)).toEqual([first.uscc, second.uscc]);
    const events = (await auditRows(db, setUp!.seq)).filter((r) => r.operation === 'Watch');
    expect(events).toHaveLength(2);
    for (const [i, record] of events.entries()) {
      expect(record).toMatchObject({
        principal: 'key:gbk_demo02',
        purpose: 'market_supervision',
        outcome: 'ok',
      });
      expect(record.row_counts).toEqual({ EntityChange: 1, Entity: 1 });
      expect(record.fields).toEqual({
        'EntityChange.uscc': { allow: 1 },
        'EntityChange.action': { allow: 1 },
        'Entity.name': { allow: 1 },
        'Entity.legalRepresentativeName': { allow: 1 },
      });
      const [row] = await db.query<{ arguments: unknown }>('SELECT arguments FROM audit_log WHERE seq = $1', [
        record.seq,
      ]);
      expect(row!.arguments).toEqual({ subscription: setUp!.seq, event: i + 1 });
      // Written before the event left: the client saw the event only once its record was in the table.
      expect(sub.seqAtDelivery[i]).toBeGreaterThanOrEqual(record.seq);
    }
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('records a refused subscription with its arguments', async () => {
    const before = await lastSeq();
    const sub = await subscribe(FEED, { d: '440305' }, {});
    await until(() => sub.events.length >= 1);
    await sub.close();
    expect(sub.events[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    const [record] = await auditRows(db, before);
    expect(record).toMatchObject({ principal: 'public', operation: 'Watch', outcome: 'error' });
    const [row] = await db.query<{ arguments: unknown }>('SELECT arguments FROM audit_log WHERE seq = $1', [
      record!.seq,
    ]);
    expect(row!.arguments).toEqual({
      field: 'entityChanged',
      divisionCode: '440305',
      actions: ['registered'],
    });
  });

  it('withholds an event whose record cannot be written, and ends the stream', async () => {
    const listeners = changeHub(db).size;
    const sub = await subscribe(FEED, { d: '440305' }, asKey(SAMR));
    await until(() => changeHub(db).size === listeners + 1);
    const name = '深圳市审计不可用有限公司';
    await db.exec('ALTER TABLE audit_log RENAME TO audit_log_x');
    try {
      await registerEntity(db, { name });
      await until(() => sub.events.length >= 1);
      await until(() => sub.ended());
    } finally {
      await db.exec('ALTER TABLE audit_log_x RENAME TO audit_log');
    }
    await sub.close();
    expect(sub.events).toHaveLength(1);
    expect(sub.events[0]!.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
    expect(JSON.stringify(sub.events)).not.toContain(name);
    await until(() => changeHub(db).size === listeners); // the LISTEN is released
  });

  it('refuses to set up a subscription whose record cannot be written', async () => {
    const listeners = changeHub(db).size;
    await db.exec('ALTER TABLE audit_log RENAME TO audit_log_x');
    let sub: Awaited<ReturnType<typeof subscribe>>;
    try {
      sub = await subscribe(FEED, {}, asKey(SAMR));
      await until(() => sub.events.length >= 1);
    } finally {
      await db.exec('ALTER TABLE audit_log_x RENAME TO audit_log');
    }
    await sub.close();
    expect(sub.events[0]!.errors?.map((e) => e.extensions?.code)).toEqual(['AUDIT_UNAVAILABLE']);
    await until(() => changeHub(db).size === listeners);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PRINCIPALS } from '../src/access/demo.ts';
import { bindAtRest, codecFor } from '../src/crypto/at-rest.ts';
import { type Database, openDatabase } from '../src/db/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { changeHub, entityChangeStream } from '../src/registries/legal-entity/change-feed.ts';
import {
  endShareholdings,
  insertShareholdings,
  updateEntity,
} from '../src/registries/legal-entity/entity-writes.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { insertDepartment, insertPerson } from '../src/testing/factories.ts';
import { asKey, gql, testGateway } from '../src/testing/gateway.ts';
import { registerEntity } from './legal-entity-fixtures.ts';

const SAMR = DEMO_PRINCIPALS.provincialMarketRegulation.key; // Guangdong
const CA = DEMO_PRINCIPALS.countyCivilAffairs.key; // Chaoyang, Beijing
const NO_SHARES_KEY = 'gbk_testfeed_no-shareholdings-grant';

let db: TestDatabase;
/** A second connection to the same database: the server's own, or (PGlite, single connection) the same. */
let writer: Database;
let gateway: Gateway;
let person: Awaited<ReturnType<typeof insertPerson>>;
let other: Awaited<ReturnType<typeof insertPerson>>;

async function secondConnection(database: TestDatabase): Promise<Database> {
  const url = process.env.DATABASE_URL;
  if (!url) return database;
  const [row] = await database.query<{ name: string }>('SELECT current_database() AS name');
  const parsed = new URL(url);
  parsed.pathname = `/${row!.name}`;
  return openDatabase({ url: parsed.toString(), poolSize: 2 });
}

beforeAll(async () => {
  db = await testDatabase();
  gateway = await testGateway(db);
  writer = await secondConnection(db);
  // The same database, so the same at-rest keys.
  if (writer !== db) bindAtRest(writer, codecFor(db));
  person = await insertPerson(db, { name: '陈新', county: '440305', birthDate: '1970-01-01' });
  other = await insertPerson(db, { name: '林旧', county: '440305', birthDate: '1971-01-01' });
  // A national department with a grant on entities and the change log, but none on shareholdings.
  await insertDepartment(db, {
    code: 'TEST-FEED',
    name: '测试订阅部门',
    key: NO_SHARES_KEY,
    grants: { 'legal_entity.entities': 2, 'governance.change_log': 2 },
  });
});
afterAll(async () => {
  if (writer && writer !== db) await writer.close();
  await db?.dispose();
});

const FEED = `query($after: String, $actions: [EntityChangeAction!], $d: String) {
  entityChanges(after: $after, first: 100, actions: $actions, divisionCode: $d) {
    edges { cursor node { action uscc divisionCode changedFields version entity { name status } } }
    pageInfo { hasNextPage endCursor } } }`;

interface Change {
  action: string;
  uscc: string;
  divisionCode: string;
  changedFields: string[] | null;
  version: number;
  entity: { name: string; status: string } | null;
}

async function pull(key: string | null, variables: Record<string, unknown> = {}) {
  const r = await gql(gateway, FEED, variables, key ? asKey(key) : {});
  return {
    errors: r.errors,
    changes: (r.data?.entityChanges?.edges ?? []).map((e: { node: Change }) => e.node) as Change[],
    end: r.data?.entityChanges?.pageInfo?.endCursor as string,
  };
}

describe('change log and pull feed', () => {
  it('logs registration, legal-representative, status and shareholding changes in commit order', async () => {
    const start = (await pull(SAMR)).end;
    const firm = await registerEntity(writer, {
      name: '深圳市变更测试有限公司',
      legalRep: { personId: other.id },
    });
    await updateEntity(writer, firm.uscc, { legalRep: { personId: person.id } }, { dept: 'SAMR' });
    await updateEntity(
      writer,
      firm.uscc,
      { status: 'revoked', address: '广东省深圳市南山区新址1号' },
      { dept: 'SAMR' },
    );
    const [holding] = await insertShareholdings(
      writer,
      [
        {
          entityId: firm.id,
          holder: { kind: 'person', personId: person.id },
          percentage: 100,
          acquiredOn: '2020-01-01',
        },
      ],
      { dept: 'SAMR' },
    );
    await endShareholdings(writer, [holding!], '2024-01-01', { dept: 'SAMR' });

    const { changes, errors } = await pull(SAMR, { after: start });
    expect(errors).toBeUndefined();
    expect(changes.map((c) => [c.action, c.version, c.changedFields])).toEqual([
      ['REGISTERED', 1, null],
      ['LEGAL_REP_CHANGED', 2, ['legalRepIdNumber', 'legalRepName', 'legalRepPersonId']],
      ['STATUS_CHANGED', 3, ['status', 'statusDate']],
      ['UPDATED', 3, ['address']],
      ['SHAREHOLDING_CHANGED', 3, ['shareholdings']],
      ['SHAREHOLDING_CHANGED', 3, ['shareholdings']],
    ]);
    expect(changes.every((c) => c.uscc === firm.uscc && c.divisionCode === '440305')).toBe(true);
    // The linked entity is read as it is now.
    expect(changes[0]!.entity).toEqual({ name: '深圳市变更测试有限公司', status: 'REVOKED' });
  });

  it('resumes after a cursor, and advances the cursor when nothing is left', async () => {
    const first = await pull(SAMR);
    expect(first.changes.length).toBeGreaterThan(0);
    const empty = await pull(SAMR, { after: first.end });
    expect(empty.changes).toEqual([]);
    expect(empty.end).toBeTruthy();
    const firm = await registerEntity(writer, { name: '深圳市续传测试有限公司' });
    const next = await pull(SAMR, { after: empty.end });
    expect(next.changes.map((c) => [c.action, c.uscc])).toEqual([['REGISTERED', firm.uscc]]);
    const bad = await gql(gateway, FEED, { after: 'bm9wZQ' }, asKey(SAMR));
    expect(bad.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
  });

  it('filters the feed by jurisdiction, division and action', async () => {
    const start = (await pull(SAMR)).end;
    const beijing = await registerEntity(writer, {
      name: '北京市朝阳区变更测试有限公司',
      divisionCode: '110105',
      registrationAuthority: '北京市朝阳区市场监督管理局',
    });
    const futian = await registerEntity(writer, {
      name: '深圳市福田变更测试有限公司',
      divisionCode: '440304',
    });
    await updateEntity(writer, futian.uscc, { status: 'cancelled' }, { dept: 'SAMR' });

    const guangdong = await pull(SAMR, { after: start });
    expect(guangdong.changes.map((c) => c.uscc)).toEqual([futian.uscc, futian.uscc]);
    const chaoyang = await pull(CA, { after: start });
    expect(chaoyang.changes.map((c) => c.uscc)).toEqual([beijing.uscc]);
    const statusOnly = await pull(SAMR, { after: start, actions: ['STATUS_CHANGED'] });
    expect(statusOnly.changes.map((c) => c.action)).toEqual(['STATUS_CHANGED']);
    const nanshan = await pull(SAMR, { after: start, d: '440305' });
    expect(nanshan.changes).toEqual([]);
    const foreign = await pull(CA, { after: start, d: '440300' });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('OUT_OF_JURISDICTION');
  });

  it('filters by grants: no change-log grant, no feed; no shareholding grant, no shareholding changes', async () => {
    const anonymous = await pull(null);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    const all = await pull(NO_SHARES_KEY);
    expect(all.errors).toBeUndefined();
    const actions = new Set(all.changes.map((c) => c.action));
    expect(actions.has('REGISTERED')).toBe(true);
    expect(actions.has('SHAREHOLDING_CHANGED')).toBe(false);
  });
});

/** An SSE subscription through the gateway: collects `next` payloads until closed. */
async function subscribe(query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await gateway.fetch('http://govbase.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const events: { data?: Record<string, any>; errors?: { extensions?: { code?: string } }[] }[] = [];
  let notify: () => void = () => undefined;
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (data) {
            events.push(JSON.parse(data));
            notify();
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    events,
    async waitFor(predicate: () => boolean, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out; events so far: ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      await pump;
    },
  };
}

async function until(predicate: () => boolean, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const SUBSCRIPTION = `subscription($after: String) { entityChanged(after: $after) {
  cursor action uscc divisionCode entity { name legalRepresentativeName } } }`;

describe('push feed (subscription over SSE, LISTEN/NOTIFY)', () => {
  it('delivers a change committed through another connection to a subscriber', async () => {
    const firm = await registerEntity(writer, {
      name: '深圳市推送测试有限公司',
      legalRep: { personId: other.id },
    });
    const listeners = changeHub(db).size;
    const sub = await subscribe(SUBSCRIPTION, {}, asKey(SAMR));
    expect(sub.status).toBe(200);
    expect(sub.contentType).toContain('text/event-stream');
    await until(() => changeHub(db).size === listeners + 1); // LISTEN is active
    await updateEntity(writer, firm.uscc, { legalRep: { personId: person.id } }, { dept: 'SAMR' });
    await sub.waitFor(() => sub.events.length >= 1);
    expect(sub.events[0]!.errors).toBeUndefined();
    expect(sub.events[0]!.data!.entityChanged).toMatchObject({
      action: 'LEGAL_REP_CHANGED',
      uscc: firm.uscc,
      divisionCode: '440305',
      entity: { name: '深圳市推送测试有限公司', legalRepresentativeName: '陈新' },
    });
    await sub.close();
    await until(() => changeHub(db).size === listeners); // the listener is released
  });

  it('delivers to each subscriber only the changes in its jurisdiction', async () => {
    const listeners = changeHub(db).size;
    const guangdong = await subscribe(SUBSCRIPTION, {}, asKey(SAMR));
    const chaoyang = await subscribe(SUBSCRIPTION, {}, asKey(CA));
    await until(() => changeHub(db).size === listeners + 2);
    const gz = await registerEntity(writer, { name: '广州市推送测试有限公司', divisionCode: '440106' });
    const bj = await registerEntity(writer, {
      name: '北京市朝阳区推送测试有限公司',
      divisionCode: '110105',
      registrationAuthority: '北京市朝阳区市场监督管理局',
    });
    const sz = await registerEntity(writer, { name: '深圳市推送收尾有限公司', divisionCode: '440305' });
    await guangdong.waitFor(() => guangdong.events.length >= 2);
    await chaoyang.waitFor(() => chaoyang.events.length >= 1);
    // Both have seen their last change; nothing else may have arrived.
    await updateEntity(writer, bj.uscc, { status: 'cancelled' }, { dept: 'SAMR' });
    await chaoyang.waitFor(() => chaoyang.events.length >= 2);
    expect(guangdong.events.map((e) => e.data!.entityChanged.uscc)).toEqual([gz.uscc, sz.uscc]);
    expect(chaoyang.events.map((e) => [e.data!.entityChanged.uscc, e.data!.entityChanged.action])).toEqual([
      [bj.uscc, 'REGISTERED'],
      [bj.uscc, 'STATUS_CHANGED'],
    ]);
    await guangdong.close();
    await chaoyang.close();
    await until(() => changeHub(db).size === listeners);
  });

  it('replays the backlog after a cursor before live changes', async () => {
    const { end } = await pull(SAMR);
    const missed = await registerEntity(writer, { name: '深圳市离线期间有限公司' });
    const sub = await subscribe(SUBSCRIPTION, { after: end }, asKey(SAMR));
    await sub.waitFor(() => sub.events.length >= 1);
    expect(sub.events[0]!.data!.entityChanged).toMatchObject({ action: 'REGISTERED', uscc: missed.uscc });
    await sub.close();
  });

  it('refuses a subscriber without a grant on the change log', async () => {
    const sub = await subscribe(SUBSCRIPTION, {}, {});
    await sub.waitFor(() => sub.events.length >= 1);
    expect(sub.events[0]!.errors?.[0]?.extensions?.code).toBe('FORBIDDEN_DATASET');
    await sub.close();
  });

  it('stops listening when a stream is closed while it waits', async () => {
    const listeners = changeHub(db).size;
    const stream = await entityChangeStream(db, { scope: null, actions: ['registered'] }, null);
    expect(changeHub(db).size).toBe(listeners + 1);
    const pending = stream.next();
    await stream.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(changeHub(db).size).toBe(listeners);
  });
});

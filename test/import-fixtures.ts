import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { installDemoAccess } from '../src/access/demo.ts';
import { buildIdNumber, buildUscc } from '../src/codes/index.ts';
import { codecFor } from '../src/crypto/at-rest.ts';
import { csvField, type Database } from '../src/db/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { type ImportOptions, type ImportReport, runImport } from '../src/ingest/import/pipeline.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';

/** Helpers of the import tests: delivery files in a temporary folder, persons read back by ID number. */

export const PERSON_HEADER = [
  'id_number',
  'name',
  'gender',
  'birth_date',
  'ethnicity',
  'hukou_division_code',
  'hukou_address',
  'residence_division_code',
  'residence_address',
  'residence_point',
  'phone',
  'status',
  'death_date',
  'household_number',
  'household_relation',
] as const;

export type PersonLine = Partial<Record<(typeof PERSON_HEADER)[number], string>>;

let sequence = 500;

/** A consistent person row (valid ID number for the county, birth date and gender). */
export function person(overrides: PersonLine & { county?: string; female?: boolean } = {}): PersonLine {
  const county = overrides.county ?? '110105';
  let seq = sequence++;
  const female = overrides.female ?? true;
  if (seq % 2 !== (female ? 0 : 1)) seq = sequence++;
  // Distinct ID numbers for many rows: the birth date moves with the sequence.
  const birth =
    overrides.birth_date ??
    new Date(Date.UTC(1950, 0, 1) + (seq % 20000) * 86_400_000).toISOString().slice(0, 10);
  const id = buildIdNumber(county, birth, seq % 1000);
  const { county: _c, female: _f, ...rest } = overrides;
  return {
    id_number: id,
    name: '测试人',
    gender: female ? '2' : '1',
    birth_date: birth,
    ethnicity: '01',
    hukou_division_code: county,
    hukou_address: '北京市朝阳区测试路1号',
    residence_division_code: county,
    residence_address: '北京市朝阳区测试路1号2单元',
    residence_point: 'POINT(116.45 39.92)',
    phone: '13900001111',
    status: 'alive',
    death_date: '',
    household_number: '',
    ...rest,
  };
}

/**
 * The setup a persons-import test file shares: its own database (demo access, and the households of
 * `households` in 110105), a temporary folder, both handed to `opened` and removed after the file's tests.
 * Returns the import of a file from a source (MPS unless told).
 */
export function personsImportSuite(
  households: readonly string[],
  opened: (db: TestDatabase, dir: string) => void,
): (path: string, source?: string, extra?: Partial<ImportOptions>) => Promise<ImportReport> {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    db = await testDatabase();
    await installDemoAccess(db);
    dir = tempDir();
    for (const number of households) {
      await db.query(
        `INSERT INTO households (household_number, type, division_code, source_dept)
         VALUES ($1, 'family', '110105', 'MPS')`,
        [number],
      );
    }
    opened(db, dir);
  });
  afterAll(async () => {
    await db?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return (path, source = 'MPS', extra = {}) =>
    runImport(db!, {
      registry: 'persons',
      input: { kind: 'file', path },
      sourceDept: source,
      submittedBy: 'test',
      ...extra,
    });
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'govbase-import-'));
}

export function writeCsv(
  dir: string,
  name: string,
  rows: readonly (PersonLine | EntityLine | string)[],
  header: readonly string[] = PERSON_HEADER,
): string {
  const path = join(dir, name);
  const lines = [header.join(',')];
  for (const row of rows) {
    lines.push(
      typeof row === 'string'
        ? row
        : header.map((h) => csvField((row as Record<string, string>)[h] ?? '')).join(','),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export function readRejects(path: string): string[] {
  return readFileSync(`${path}.rejects.csv`, 'utf8').trimEnd().split('\n');
}

export interface StoredPerson {
  id: number;
  name: string;
  residenceDivisionCode: string | null;
  version: number;
  sourceDept: string;
  sourceBatch: string | null;
  phone: string | null;
}

/** A person by ID number (through the blind index), with the phone decrypted. */
export async function storedPerson(db: Database, idNumber: string): Promise<StoredPerson | null> {
  const codec = codecFor(db);
  const [row] = await db.query<StoredPerson>(
    `SELECT id, name, residence_division_code AS "residenceDivisionCode", version, source_dept AS "sourceDept",
            source_batch AS "sourceBatch", phone
       FROM persons WHERE id_number_bidx = $1`,
    [codec.blindIndexFor('persons', 'id_number', idNumber)],
  );
  if (!row) return null;
  return { ...row, id: Number(row.id), phone: codec.decodeValue(row.phone) };
}

export async function countRows(
  db: Database,
  table: string,
  where = 'TRUE',
  params: unknown[] = [],
): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
}

export interface SseEvent {
  data?: Record<string, any>;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

/** An SSE subscription through the gateway: collects `next` payloads until closed. */
export async function subscribe(
  gateway: Gateway,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
) {
  const controller = new AbortController();
  const response = await gateway.fetch('http://govbase.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
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

export async function until(predicate: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let usccSerial = 0;

/** A fresh valid USCC for a company registered in `division`. */
export function freshUscc(division = '440305'): string {
  usccSerial++;
  const body = `M${String(usccSerial + 1000 * (process.pid % 1000)).padStart(7, '0')}`.replaceAll('0', 'B');
  return buildUscc('9', '1', division, body);
}

export const ENTITY_HEADER = [
  'uscc',
  'name',
  'legal_form',
  'legal_rep_id_number',
  'registered_capital',
  'established_on',
  'status',
  'status_date',
  'division_code',
  'address',
  'point',
  'registration_authority',
  'parent_uscc',
] as const;

export type EntityLine = Partial<Record<(typeof ENTITY_HEADER)[number], string>>;

export function entity(overrides: EntityLine = {}): EntityLine {
  const division = overrides.division_code ?? '440305';
  return {
    uscc: freshUscc(division),
    name: '深圳市导入测试有限公司',
    legal_form: 'limited_liability_company',
    legal_rep_id_number: '',
    registered_capital: '1000000.00',
    established_on: '2016-05-01',
    status: 'active',
    status_date: '',
    division_code: division,
    address: '广东省深圳市南山区科技路1号',
    point: 'POINT(113.93 22.53)',
    registration_authority: '深圳市南山区市场监督管理局',
    parent_uscc: '',
    ...overrides,
  };
}

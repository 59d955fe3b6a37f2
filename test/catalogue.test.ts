import { getTableColumns, getTableName } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldEntry } from '../schema/catalogue.ts';
import { DATASETS } from '../schema/datasets.ts';
import { main as catalogueCli } from '../scripts/catalogue.ts';
import { defineAttribute } from '../src/attributes/definitions.ts';
import {
  type Catalogue,
  catalogueCsv,
  checkCatalogue,
  checkFullCatalogue,
  fullCatalogue,
} from '../src/catalogue/index.ts';
import type { Gateway } from '../src/gateway/server.ts';
import { SUBJECTS } from '../src/subjects/index.ts';
import { entryOf, subjectSelect } from '../src/subjects/subject.ts';
import { TAGS } from '../src/tags/definitions.ts';
import { type TestDatabase, testDatabase } from '../src/testing/database.ts';
import { gql, testGateway } from '../src/testing/gateway.ts';

const declared = { datasets: DATASETS, subjects: SUBJECTS, tags: TAGS };

function entryOfField(fields: Record<string, FieldEntry>, derived: Record<string, FieldEntry>, name: string) {
  return fields[name] ?? derived[name];
}

describe('the data-resource catalogue', () => {
  const catalogue = fullCatalogue();

  it('lists every classified column of every table exactly once, as declared', () => {
    for (const dataset of DATASETS) {
      const resources = catalogue.datasets.filter((d) => d.id === dataset.id);
      expect(resources, dataset.id).toHaveLength(1);
      const resource = resources[0]!;
      expect(resource.table).toBe(getTableName(dataset.table));
      expect(resource.owner).toBe(dataset.owner);
      expect(resource.updateFrequency).toBe(dataset.updateFrequency);
      const columns = getTableColumns(dataset.table);
      for (const [property, column] of Object.entries(columns)) {
        const listed = resource.fields.filter((f) => f.kind === 'column' && f.name === property);
        expect(listed, `${dataset.id}.${property}`).toHaveLength(1);
        const entry = (dataset.fields as Record<string, FieldEntry>)[property]!;
        expect(listed[0]).toMatchObject({
          column: column.name,
          description: entry.description,
          level: entry.level,
          share: entry.share,
          mask: entry.mask,
          open: entry.open === true,
          owner: dataset.owner,
        });
      }
      const derived = Object.keys(dataset.derived);
      expect(resource.fields.filter((f) => f.kind === 'derived').map((f) => f.name)).toEqual(derived);
      expect(resource.fields).toHaveLength(Object.keys(columns).length + derived.length);
    }
  });

  it('lists every subject column and every tag once, with the entry it is decided by', () => {
    for (const subject of SUBJECTS) {
      const [resource] = catalogue.datasets.filter((d) => d.id === `subject.${subject.id}`);
      expect(resource!.fields.map((f) => f.name)).toEqual(Object.keys(subject.columns));
      for (const f of resource!.fields) {
        const column = subject.columns[f.name]!;
        expect(f.level).toBe(entryOf(subject, f.name).level);
        if ('derived' in column.source) expect(f.source).toBe('derived');
        else {
          const { dataset, field } = column.source;
          expect(f.source).toBe(`${dataset.id}.${field}`);
          expect(entryOfField(dataset.fields as never, dataset.derived as never, field)).toBe(
            entryOf(subject, f.name),
          );
        }
      }
    }
    const tagFields = catalogue.datasets.filter((d) => d.kind === 'tags').flatMap((d) => d.fields);
    expect(tagFields.map((f) => f.name).sort()).toEqual(TAGS.map((t) => `tag:${t.code}`).sort());
    const lowIncome = tagFields.find((f) => f.name === 'tag:low_income')!;
    expect(lowIncome).toMatchObject({ level: 'sensitive', share: 'conditional', owner: 'MCA', open: false });
  });

  it('the check passes on the generated catalogue and fails on a column missing or listed twice', () => {
    expect(checkFullCatalogue(catalogue)).toEqual([]);
    const tampered: Catalogue = structuredClone(catalogue);
    const persons = tampered.datasets.find((d) => d.id === 'population.persons')!;
    persons.fields = persons.fields.filter((f) => f.name !== 'phone');
    const entities = tampered.datasets.find((d) => d.id === 'legal_entity.entities')!;
    entities.fields.push({ ...entities.fields.find((f) => f.name === 'uscc')! });
    const credit = tampered.datasets.find((d) => d.id === 'subject.enterprise_credit')!;
    credit.fields.find((f) => f.name === 'open_quality_issues')!.level = 'public';
    const problems = checkCatalogue(tampered, declared);
    expect(problems).toEqual(
      expect.arrayContaining([
        'population.persons.phone is missing',
        'legal_entity.entities.uscc is listed 2 times',
        expect.stringMatching(/^subject\.enterprise_credit\.open_quality_issues is listed as public/),
      ]),
    );
    expect(problems).toHaveLength(3);
  });
});

describe('the catalogue against the database', () => {
  let db: TestDatabase;
  let gateway: Gateway;
  beforeAll(async () => {
    db = await testDatabase();
    gateway = await testGateway(db);
  });
  afterAll(() => db?.dispose());

  it('every table column in the database is classified, and every subject view has exactly the declared columns', async () => {
    const catalogue = fullCatalogue();
    for (const dataset of DATASETS) {
      const table = getTableName(dataset.table);
      const columns = await db.query<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      const listed = catalogue.datasets
        .find((d) => d.id === dataset.id)!
        .fields.filter((f) => f.kind === 'column')
        .map((f) => f.column);
      expect(columns.map((c) => c.name).sort(), table).toEqual([...listed].sort());
    }
    for (const subject of SUBJECTS) {
      const columns = await db.transaction(async (tx) => {
        await tx.query(`CREATE TEMP VIEW subject_check AS ${subjectSelect(subject)}`);
        const found = await tx.query<{ name: string }>(
          `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'subject_check'::regclass AND attnum > 0
            ORDER BY attnum`,
        );
        await tx.query('DROP VIEW subject_check');
        return found.map((c) => c.name);
      });
      expect(columns, subject.id).toEqual(Object.keys(subject.columns));
    }
  });

  it('is queryable in GraphQL by anyone', async () => {
    const r = await gql(
      gateway,
      `{ dataCatalogue { id kind owner level share open fields { name kind level share open source } } }`,
    );
    expect(r.errors).toBeUndefined();
    const catalogue = fullCatalogue();
    expect(r.data!.dataCatalogue.map((d: { id: string }) => d.id)).toEqual(
      catalogue.datasets.map((d) => d.id),
    );
    const credit = r.data!.dataCatalogue.find((d: { id: string }) => d.id === 'subject.enterprise_credit');
    expect(credit.fields.find((f: { name: string }) => f.name === 'uscc')).toEqual({
      name: 'uscc',
      kind: 'subject',
      level: 'public',
      share: 'unconditional',
      open: true,
      source: 'legal_entity.entities.uscc',
    });
    const open = await gql(gateway, `{ dataCatalogue(openOnly: true, kind: "table") { id open } }`);
    expect(open.data!.dataCatalogue.length).toBeGreaterThan(3);
    expect(open.data!.dataCatalogue.every((d: { open: boolean }) => d.open)).toBe(true);
    expect(open.data!.dataCatalogue.map((d: { id: string }) => d.id)).not.toContain('governance.audit_log');
  });

  it('exports as CSV (one row per field) and JSON from npm run catalogue, attributes included', async () => {
    const catalogue = fullCatalogue();
    let csv = '';
    expect(await catalogueCli(['--format', 'csv'], { db, log: (t) => (csv += t) })).toBe(0);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'dataset_id,dataset_name,registry,resource_kind,table,field,column,field_kind,description,owner,update_frequency,level,share,mask,open,sensitive_personal,encrypted_at_rest,source',
    );
    // No attribute defined yet: the CLI prints the declared catalogue.
    expect(lines).toHaveLength(1 + catalogue.datasets.reduce((n, d) => n + d.fields.length, 0));
    expect(csv).toBe(catalogueCsv({ ...catalogue, generatedAt: 'x' }));
    expect(
      lines.filter((l) => l.startsWith('population.persons,') && l.includes(',idNumber,id_number,column,')),
    ).toHaveLength(1);
    let json = '';
    expect(await catalogueCli(['--format', 'json'], { db, log: (t) => (json += t) })).toBe(0);
    expect((JSON.parse(json) as Catalogue).datasets).toHaveLength(catalogue.datasets.length);
    const errors: string[] = [];
    expect(
      await catalogueCli(['--format', 'xml'], { db, log: () => undefined, error: (l) => errors.push(l) }),
    ).toBe(2);
    expect(errors[0]).toMatch(/--format 'xml'/);

    // An attribute defined in the database appears in the CLI output, as in GraphQL dataCatalogue.
    await defineAttribute(
      db,
      {
        recordType: 'entity',
        code: 'esg_rating',
        name: 'ESG 评级',
        description: 'ESG rating',
        dataType: 'code',
        codeValues: ['A', 'B', 'C'],
        ownerDept: 'SAMR',
        updateFrequency: 'yearly',
        level: 'internal',
        share: 'conditional',
        mask: 'none',
      },
      'test',
    );
    let after = '';
    expect(await catalogueCli(['--format', 'csv'], { db, log: (t) => (after += t) })).toBe(0);
    const rows = after.trimEnd().split('\r\n');
    expect(rows).toHaveLength(lines.length + 1);
    const row = rows.filter((l) => l.includes(',attribute:esg_rating,'));
    expect(row).toHaveLength(1);
    expect(row[0]).toMatch(
      /^legal_entity\.entities,.*,attribute:esg_rating,,attribute,.*,SAMR,yearly,internal,conditional,none,false,false,,attribute:esg_rating@v1$/,
    );
    let afterJson = '';
    expect(await catalogueCli(['--format', 'json'], { db, log: (t) => (afterJson += t) })).toBe(0);
    const listed = (JSON.parse(afterJson) as Catalogue).datasets
      .find((d) => d.id === 'legal_entity.entities')!
      .fields.find((f) => f.name === 'attribute:esg_rating');
    expect(listed).toMatchObject({ kind: 'attribute', owner: 'SAMR', level: 'internal', status: 'active' });
    const graphql = await gql(
      gateway,
      `{ dataCatalogue(id: "legal_entity.entities") { fields { name source } } }`,
    );
    expect(graphql.data?.dataCatalogue[0].fields).toContainEqual({
      name: 'attribute:esg_rating',
      source: 'attribute:esg_rating@v1',
    });
  });
});

import { getTableColumns, getTableName } from 'drizzle-orm';
import type { Dataset, DatasetMeta, FieldEntry, LevelName, MaskRule, Share } from '../../schema/catalogue.ts';
import { LEVELS } from '../../schema/catalogue.ts';
import { DATASETS } from '../../schema/datasets.ts';
import type { SubjectDefinition } from '../subjects/subject.ts';
import { entryOf } from '../subjects/subject.ts';
import { TAGS, type TagDefinition } from '../tags/definitions.ts';
import { REGISTRIES } from '../tags/registries.ts';

/**
 * The data-resource catalogue (政务数据资源目录), generated from the one declaration of every field: the
 * field catalogues of the tables (schema/*.ts, schema/datasets.ts), the subjects (src/subjects) and the
 * tags (src/tags/definitions.ts). For every dataset and field: its description, owner department, update
 * frequency, classification level, sharing class, mask rule and open attribute. The enforcement (src/access)
 * reads the same entries, so the catalogue cannot disagree with what a caller is actually served.
 */

export type ResourceKind = 'table' | 'subject' | 'tags';
export type FieldKind = 'column' | 'derived' | 'subject' | 'tag' | 'attribute';

export interface CatalogueField {
  /** The field as the catalogue and grants name it (camelCase for columns; `tag:<code>` for tags). */
  name: string;
  /** The database column (tables) or view column (subjects); null for derived values and tags. */
  column: string | null;
  kind: FieldKind;
  description: string;
  owner: string;
  updateFrequency: DatasetMeta['updateFrequency'];
  level: LevelName;
  share: Share;
  mask: MaskRule;
  open: boolean;
  sensitivePersonal: boolean;
  /** Kind of value kept encrypted at rest (citizenId, phone, address), or null. */
  encryptedAtRest: string | null;
  /** Subjects: the catalogue entry the value comes from (`population.persons.name`), or `derived`. */
  source: string | null;
  /** Attributes (fields on demand, src/attributes/catalogue.ts): active or retired. */
  status?: 'active' | 'retired';
}

export interface CatalogueDataset {
  id: string;
  name: string;
  description: string;
  registry: string;
  kind: ResourceKind;
  /** The table (tables) or the subject's anchor dataset (subjects). */
  table: string | null;
  owner: string;
  updateFrequency: DatasetMeta['updateFrequency'];
  /** The highest level of its fields. */
  level: LevelName;
  /** unconditional when every field is, none when every field is, else conditional. */
  share: Share;
  /** Whether any field may be opened (open data). */
  open: boolean;
  fields: CatalogueField[];
}

export interface Catalogue {
  generatedAt: string;
  datasets: CatalogueDataset[];
}

const LEVEL_NAMES = Object.keys(LEVELS) as LevelName[];

function summary(fields: CatalogueField[]): Pick<CatalogueDataset, 'level' | 'share' | 'open'> {
  const top = Math.max(...fields.map((f) => LEVELS[f.level]), LEVELS.public);
  const shares = new Set(fields.map((f) => f.share));
  const share: Share = shares.size === 1 ? [...shares][0]! : 'conditional';
  return {
    level: LEVEL_NAMES.find((n) => LEVELS[n] === top)!,
    share,
    open: fields.some((f) => f.open),
  };
}

function field(
  name: string,
  column: string | null,
  kind: FieldKind,
  entry: FieldEntry,
  meta: { owner: string; updateFrequency: DatasetMeta['updateFrequency'] },
  source: string | null = null,
): CatalogueField {
  return {
    name,
    column,
    kind,
    description: entry.description,
    owner: meta.owner,
    updateFrequency: meta.updateFrequency,
    level: entry.level,
    share: entry.share,
    mask: entry.mask,
    open: entry.open === true,
    sensitivePersonal: entry.sensitivePersonal === true,
    encryptedAtRest: entry.atRest?.kind ?? null,
    source,
  };
}

export function tableResource(dataset: Dataset): CatalogueDataset {
  const columns = getTableColumns(dataset.table);
  const fields: CatalogueField[] = [];
  for (const [name, entry] of Object.entries(dataset.fields as Record<string, FieldEntry>)) {
    fields.push(field(name, columns[name]?.name ?? null, 'column', entry, dataset));
  }
  for (const [name, entry] of Object.entries(dataset.derived as Record<string, FieldEntry>)) {
    fields.push(field(name, null, 'derived', entry, dataset));
  }
  return {
    id: dataset.id,
    name: dataset.name,
    description: dataset.description,
    registry: dataset.registry,
    kind: 'table',
    table: getTableName(dataset.table),
    owner: dataset.owner,
    updateFrequency: dataset.updateFrequency,
    ...summary(fields),
    fields,
  };
}

export function subjectResource(subject: SubjectDefinition): CatalogueDataset {
  const meta = { owner: subject.owner, updateFrequency: subject.updateFrequency };
  const fields = Object.entries(subject.columns).map(([name, column]) => {
    const source =
      'derived' in column.source ? 'derived' : `${column.source.dataset.id}.${column.source.field}`;
    const entry = entryOf(subject, name);
    return field(
      name,
      name,
      'subject',
      { ...entry, description: column.description ?? entry.description },
      meta,
      source,
    );
  });
  return {
    id: `subject.${subject.id}`,
    name: subject.name,
    description: subject.description,
    registry: subject.anchor.registry,
    kind: 'subject',
    table: subject.anchor.id,
    ...meta,
    ...summary(fields),
    fields,
  };
}

/** The tags of one registry as one resource: each tag a field, classified by the tag's own entry. */
export function tagResource(
  registry: TagDefinition['registry'],
  tags: readonly TagDefinition[],
): CatalogueDataset {
  const info = REGISTRIES[registry];
  const fields = tags.map((tag) =>
    field(
      `tag:${tag.code}`,
      null,
      'tag',
      {
        level: tag.level,
        share: tag.share,
        mask: tag.mask,
        description: `${tag.name}: ${tag.description}${tag.kind === 'rule' ? ` (rule v${tag.version})` : ' (manual)'}`,
      },
      { owner: tag.owner, updateFrequency: tag.kind === 'rule' ? 'daily' : 'realtime' },
      tag.kind === 'rule' ? `rule:${tag.code}@${tag.version}` : 'manual',
    ),
  );
  return {
    id: `tags.${registry}`,
    name: `标签 Tags on ${info.typeName} records`,
    description: `Tags on records of ${info.dataset.id}, each decided by its own classification`,
    registry: info.dataset.registry,
    kind: 'tags',
    table: 'tag_assignments',
    owner: 'PLATFORM',
    updateFrequency: 'realtime',
    ...summary(fields),
    fields,
  };
}

export function buildCatalogue(
  options: {
    datasets?: readonly Dataset[];
    subjects?: readonly SubjectDefinition[];
    tags?: readonly TagDefinition[];
    now?: Date;
  } = {},
): Catalogue {
  const tags = options.tags ?? TAGS;
  const registries = [...new Set(tags.map((t) => t.registry))];
  return {
    generatedAt: (options.now ?? new Date()).toISOString(),
    datasets: [
      ...(options.datasets ?? DATASETS).map(tableResource),
      ...(options.subjects ?? []).map(subjectResource),
      ...registries.map((r) =>
        tagResource(
          r,
          tags.filter((t) => t.registry === r),
        ),
      ),
    ],
  };
}

/**
 * Problems of a catalogue against the declarations: a column of a table or subject that the catalogue
 * misses, lists twice, or names without existing; entries that differ from the declared ones; dataset ids
 * listed twice. Empty when the catalogue is complete and faithful.
 */
export function checkCatalogue(
  catalogue: Catalogue,
  declared: {
    datasets: readonly Dataset[];
    subjects: readonly SubjectDefinition[];
    tags: readonly TagDefinition[];
  },
): string[] {
  const problems: string[] = [];
  const byId = new Map<string, CatalogueDataset[]>();
  for (const d of catalogue.datasets) byId.set(d.id, [...(byId.get(d.id) ?? []), d]);
  for (const [id, list] of byId)
    if (list.length > 1) problems.push(`dataset ${id} is listed ${list.length} times`);

  const expect = (id: string, wanted: Map<string, FieldEntry>, kindOf: (name: string) => FieldKind) => {
    const resource = byId.get(id)?.[0];
    if (!resource) {
      problems.push(`dataset ${id} is missing`);
      return;
    }
    const seen = new Map<string, number>();
    for (const f of resource.fields)
      seen.set(`${f.kind}:${f.name}`, (seen.get(`${f.kind}:${f.name}`) ?? 0) + 1);
    for (const [name, entry] of wanted) {
      const key = `${kindOf(name)}:${name}`;
      const n = seen.get(key) ?? 0;
      if (n === 0) problems.push(`${id}.${name} is missing`);
      if (n > 1) problems.push(`${id}.${name} is listed ${n} times`);
      const listed = resource.fields.find((f) => `${f.kind}:${f.name}` === key);
      if (
        listed &&
        (listed.level !== entry.level || listed.share !== entry.share || listed.mask !== entry.mask)
      )
        problems.push(
          `${id}.${name} is listed as ${listed.level}/${listed.share}/${listed.mask}, declared ${entry.level}/${entry.share}/${entry.mask}`,
        );
      seen.delete(key);
    }
    for (const key of seen.keys()) problems.push(`${id}: '${key}' is listed but not declared`);
  };

  for (const dataset of declared.datasets) {
    const columns = Object.keys(getTableColumns(dataset.table));
    const fields = dataset.fields as Record<string, FieldEntry>;
    const wanted = new Map<string, FieldEntry>();
    for (const column of columns) {
      const entry = fields[column];
      if (!entry) problems.push(`${dataset.id}.${column} has no catalogue entry`);
      else wanted.set(column, entry);
    }
    const derived = dataset.derived as Record<string, FieldEntry>;
    for (const [name, entry] of Object.entries(derived)) wanted.set(name, entry);
    expect(dataset.id, wanted, (name) => (name in derived && !columns.includes(name) ? 'derived' : 'column'));
  }
  for (const subject of declared.subjects) {
    const wanted = new Map(Object.keys(subject.columns).map((c) => [c, entryOf(subject, c)]));
    expect(`subject.${subject.id}`, wanted, () => 'subject');
  }
  const registries = [...new Set(declared.tags.map((t) => t.registry))];
  for (const registry of registries) {
    const wanted = new Map<string, FieldEntry>(
      declared.tags
        .filter((t) => t.registry === registry)
        .map((t) => [
          `tag:${t.code}`,
          { level: t.level, share: t.share, mask: t.mask, description: t.description },
        ]),
    );
    expect(`tags.${registry}`, wanted, () => 'tag');
  }
  return problems;
}

const CSV_COLUMNS = [
  'dataset_id',
  'dataset_name',
  'registry',
  'resource_kind',
  'table',
  'field',
  'column',
  'field_kind',
  'description',
  'owner',
  'update_frequency',
  'level',
  'share',
  'mask',
  'open',
  'sensitive_personal',
  'encrypted_at_rest',
  'source',
] as const;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row per field (UTF-8, RFC 4180, header first). */
export function catalogueCsv(catalogue: Catalogue): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const d of catalogue.datasets) {
    for (const f of d.fields) {
      lines.push(
        [
          d.id,
          d.name,
          d.registry,
          d.kind,
          d.table,
          f.name,
          f.column,
          f.kind,
          f.description,
          f.owner,
          f.updateFrequency,
          f.level,
          f.share,
          f.mask,
          f.open,
          f.sensitivePersonal,
          f.encryptedAtRest,
          f.source,
        ]
          .map(csvCell)
          .join(','),
      );
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

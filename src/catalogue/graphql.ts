import { dataCatalogue } from '../attributes/catalogue.ts';
import { requestDefinitions } from '../attributes/filter.ts';
import { builder } from '../gateway/builder.ts';
import type { CatalogueDataset, CatalogueField } from './catalogue.ts';

/**
 * `dataCatalogue`: the data-resource catalogue in GraphQL — metadata only (what exists, who owns it, how it
 * is classified and shared, whether it may be opened), public like the published catalogue itself. It is
 * generated from the same declarations the access layer enforces.
 */

const CatalogueFieldRef = builder.objectRef<CatalogueField>('CatalogueField');
CatalogueFieldRef.implement({
  description: 'A field of a data resource with its classification',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false }),
    column: t.exposeString('column', { nullable: true, description: 'Database or view column' }),
    kind: t.exposeString('kind', {
      nullable: false,
      description: 'column, derived, subject, tag or attribute',
    }),
    description: t.exposeString('description', { nullable: false }),
    owner: t.exposeString('owner', { nullable: false, description: 'Department responsible' }),
    updateFrequency: t.exposeString('updateFrequency', { nullable: false }),
    level: t.exposeString('level', {
      nullable: false,
      description: 'public, internal, restricted or sensitive',
    }),
    share: t.exposeString('share', { nullable: false, description: 'unconditional, conditional or none' }),
    mask: t.exposeString('mask', { nullable: false }),
    open: t.exposeBoolean('open', { nullable: false, description: 'May appear in open data' }),
    sensitivePersonal: t.exposeBoolean('sensitivePersonal', { nullable: false }),
    encryptedAtRest: t.exposeString('encryptedAtRest', {
      nullable: true,
      description: 'Kind of value kept encrypted at rest (citizenId, phone, address)',
    }),
    source: t.exposeString('source', {
      nullable: true,
      description:
        'Subjects: the catalogue entry the value comes from; tags: rule version or manual; attributes: code and definition version',
    }),
    status: t.string({
      nullable: true,
      description: 'Attributes (fields on demand): active or retired',
      resolve: (f) => f.status ?? null,
    }),
  }),
});

const CatalogueDatasetRef = builder.objectRef<CatalogueDataset>('CatalogueDataset');
CatalogueDatasetRef.implement({
  description: 'A data resource: a registry table, a subject view or the tags of a registry',
  fields: (t) => ({
    id: t.exposeString('id', { nullable: false }),
    name: t.exposeString('name', { nullable: false }),
    description: t.exposeString('description', { nullable: false }),
    registry: t.exposeString('registry', { nullable: false }),
    kind: t.exposeString('kind', { nullable: false, description: 'table, subject or tags' }),
    table: t.exposeString('table', { nullable: true }),
    owner: t.exposeString('owner', { nullable: false }),
    updateFrequency: t.exposeString('updateFrequency', { nullable: false }),
    level: t.exposeString('level', { nullable: false, description: 'The highest level of its fields' }),
    share: t.exposeString('share', { nullable: false }),
    open: t.exposeBoolean('open', { nullable: false }),
    fields: t.field({ type: [CatalogueFieldRef], nullable: false, resolve: (d) => d.fields }),
  }),
});

builder.queryField('dataCatalogue', (t) =>
  t.field({
    type: [CatalogueDatasetRef],
    nullable: false,
    description:
      'The data-resource catalogue: every dataset, subject, tag and attribute with its fields’ classification',
    args: {
      id: t.arg.string({ description: 'One resource by id' }),
      registry: t.arg.string(),
      kind: t.arg.string({ description: 'table, subject or tags' }),
      openOnly: t.arg.boolean({ description: 'Only resources with fields that may be opened' }),
    },
    resolve: async (_root, args, ctx) =>
      dataCatalogue([...(await requestDefinitions(ctx)).values()]).datasets.filter(
        (d) =>
          (!args.id || d.id === args.id) &&
          (!args.registry || d.registry === args.registry) &&
          (!args.kind || d.kind === args.kind) &&
          (!args.openOnly || d.open),
      ),
  }),
);

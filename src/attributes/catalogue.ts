import type { Catalogue, CatalogueField } from '../catalogue/catalogue.ts';
import { fullCatalogue } from '../catalogue/index.ts';
import type { Queryable } from '../db/index.ts';
import { attributeEntry, RECORD_DATASETS } from './access.ts';
import { type AttributeDefinition, currentDefinitions } from './definitions.ts';

/**
 * Attributes in the data-resource catalogue: each attribute is a field of its record type's dataset
 * (population.persons, legal-entity.entities, spatial.features), kind 'attribute', classified by the same
 * entry the access layer decides it by (attributeEntry), with its owner and update frequency; retired ones
 * stay listed, marked `status: retired`, since their history can still be read.
 */

export function attributeField(def: AttributeDefinition): CatalogueField {
  const entry = attributeEntry(def);
  return {
    name: `attribute:${def.code}`,
    column: null,
    kind: 'attribute',
    description:
      entry.description +
      (def.layerId ? ` (layer ${def.layerId})` : '') +
      ` [${def.dataType}${def.status === 'retired' ? `, retired ${def.retiredAt ?? ''}` : ''}]`,
    owner: def.ownerDept,
    updateFrequency: def.updateFrequency,
    level: entry.level,
    share: entry.share,
    mask: entry.mask,
    open: entry.open === true,
    sensitivePersonal: entry.sensitivePersonal === true,
    encryptedAtRest: null,
    source: `attribute:${def.code}@v${def.version}`,
    status: def.status,
  };
}

/** The catalogue with every attribute listed as a field of its dataset (the definitions' current versions). */
export function withAttributes(catalogue: Catalogue, defs: readonly AttributeDefinition[]): Catalogue {
  return {
    ...catalogue,
    datasets: catalogue.datasets.map((d) => {
      const extra = defs.filter((def) => RECORD_DATASETS[def.recordType].id === d.id && d.kind === 'table');
      return extra.length === 0 ? d : { ...d, fields: [...d.fields, ...extra.map(attributeField)] };
    }),
  };
}

/**
 * The data-resource catalogue as served — the declared catalogue plus the attribute definitions given (their
 * current versions). GraphQL `dataCatalogue` passes the request's definitions, `npm run catalogue` reads them
 * from the database (dataCatalogueOf).
 */
export function dataCatalogue(defs: readonly AttributeDefinition[], now = new Date()): Catalogue {
  return withAttributes(fullCatalogue(now), defs);
}

/** dataCatalogue with the definitions read from the database. */
export async function dataCatalogueOf(db: Queryable, now = new Date()): Promise<Catalogue> {
  return dataCatalogue(await currentDefinitions(db), now);
}

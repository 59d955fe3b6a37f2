import type { Queryable } from '../db/index.ts';
import type { PropertyDefinition } from '../ogc/collections.ts';
import { attributeEntry } from './access.ts';
import { currentDefinitions } from './definitions.ts';

/**
 * A layer's active attributes as properties of its OGC API – Features collection, read per request
 * (CollectionDefinition.dynamicProperties): served in items, listed in the queryables, usable in CQL2 and
 * simple filters — each decided by its definition's classification like any property (allowed, masked or
 * left out; a filter needs the clear right). The value is a correlated lookup of the current value, which
 * the (record type, code, record) key answers. Geometry attributes are not served as properties (a
 * feature has one geometry in GeoJSON); they are read in GraphQL.
 */

const VALUE: Record<string, { column: string; type: PropertyDefinition['type'] }> = {
  text: { column: 'av.value_text', type: 'string' },
  code: { column: 'av.value_text', type: 'string' },
  integer: { column: 'av.value_int', type: 'integer' },
  decimal: { column: 'av.value_num::float8', type: 'number' },
  date: { column: 'av.value_date', type: 'date' },
  boolean: { column: 'av.value_bool', type: 'boolean' },
};

const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;

export async function layerAttributeProperties(
  db: Queryable,
  layerId: string,
): Promise<Record<string, PropertyDefinition>> {
  const out: Record<string, PropertyDefinition> = {};
  for (const def of await currentDefinitions(db, 'feature')) {
    const value = VALUE[def.dataType];
    if (def.layerId !== layerId || def.status !== 'active' || !value) continue;
    out[def.code] = {
      column: `(SELECT ${value.column} FROM attribute_values av WHERE av.record_type = 'feature'
                 AND av.code = ${lit(def.code)} AND av.record_id = src.id AND av.valid_to IS NULL)`,
      field: `attribute:${def.code}`,
      type: value.type,
      title: def.name,
      description: `${def.description} (attribute v${def.version}, owner ${def.ownerDept})`,
      entry: attributeEntry(def),
      owner: def.ownerDept,
    };
  }
  return out;
}

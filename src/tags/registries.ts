import type { Dataset } from '../../schema/catalogue.ts';
import { featuresDataset } from '../../schema/geospatial.ts';
import { entitiesDataset } from '../../schema/legal-entity.ts';
import { householdsDataset, personsDataset } from '../../schema/population.ts';
import type { TagRegistry } from '../../schema/tags.ts';
import type { Principal } from '../access/principal.ts';
import { LAYERS } from '../registries/spatial/layer-catalogue.ts';

const PUBLIC_LAYERS = LAYERS.filter((l) => l.classification === 'public').map((l) => l.id);

/**
 * What a tag's registry is in SQL: its table (aliased `r` in predicates), the dataset whose grant decides
 * its tags, the division a record is counted in, and the caller's row scope over it.
 */
export interface RegistryInfo {
  registry: TagRegistry;
  table: string;
  dataset: Dataset;
  /** SQL over `r`: the division code a record is counted in. */
  division: string;
  /** SQL over `r` limiting rows to the principal's jurisdiction, with values through `param`. */
  scope(principal: Principal, param: (value: unknown) => string): string;
  /** The GraphQL type whose records carry the tags. */
  typeName: string;
}

function rangeScope(columns: string[]) {
  return (principal: Principal, param: (value: unknown) => string): string => {
    const scope = principal.scope;
    if (!scope) return 'TRUE';
    const lo = param(scope.lo);
    const hi = param(scope.hi);
    return `(${columns.map((c) => `${c} BETWEEN ${lo} AND ${hi}`).join(' OR ')})`;
  };
}

export const REGISTRIES: Readonly<Record<TagRegistry, RegistryInfo>> = {
  person: {
    registry: 'person',
    table: 'persons',
    dataset: personsDataset as unknown as Dataset,
    // Counted where they live, as the persons query does by default.
    division: 'r.residence_division_code',
    // A person belongs to a jurisdiction where registered (户籍) or residing (居住), as in person-store.
    scope: rangeScope(['r.hukou_division_code', 'r.residence_division_code']),
    typeName: 'Person',
  },
  household: {
    registry: 'household',
    table: 'households',
    dataset: householdsDataset as unknown as Dataset,
    division: 'r.division_code',
    scope: rangeScope(['r.division_code']),
    typeName: 'Household',
  },
  entity: {
    registry: 'entity',
    table: 'entities',
    dataset: entitiesDataset as unknown as Dataset,
    division: 'r.division_code',
    scope: rangeScope(['r.division_code']),
    typeName: 'Entity',
  },
  feature: {
    registry: 'feature',
    table: 'features',
    dataset: featuresDataset as unknown as Dataset,
    division: 'r.division_code',
    // Features are not scoped by jurisdiction; internal layers are hidden from the public.
    scope: (principal, param) =>
      principal.kind === 'public' ? `r.layer_id = ANY(${param(PUBLIC_LAYERS)}::text[])` : 'TRUE',
    typeName: 'Feature',
  },
};

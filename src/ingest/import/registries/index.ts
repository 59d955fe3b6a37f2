import { ImportError } from '../batches.ts';
import type { RegistrySpec } from '../spec.ts';
import { attributesSpec } from './attributes.ts';
import { entitiesSpec } from './entities.ts';
import { featuresSpec } from './features.ts';
import { householdsSpec } from './households.ts';
import { personsSpec } from './persons.ts';

/** The registries an import or a correction can write, by CLI name. */
export const REGISTRY_SPECS: Readonly<Record<string, RegistrySpec>> = {
  persons: personsSpec,
  entities: entitiesSpec,
  features: featuresSpec,
  households: householdsSpec,
  attributes: attributesSpec,
};

export function registrySpec(name: string): RegistrySpec {
  const spec = REGISTRY_SPECS[name];
  if (!spec) {
    throw new ImportError(`unknown registry '${name}' (one of ${Object.keys(REGISTRY_SPECS).join(', ')})`);
  }
  return spec;
}

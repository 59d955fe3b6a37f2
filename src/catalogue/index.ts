import { DATASETS } from '../../schema/datasets.ts';
import { SUBJECTS } from '../subjects/index.ts';
import { TAGS } from '../tags/definitions.ts';
import { buildCatalogue, type Catalogue, checkCatalogue } from './catalogue.ts';

export * from './catalogue.ts';

/** The whole data-resource catalogue: every table, subject and tag. */
export function fullCatalogue(now = new Date()): Catalogue {
  return buildCatalogue({ datasets: DATASETS, subjects: SUBJECTS, tags: TAGS, now });
}

/** Problems of the whole catalogue against the declarations (empty when complete). */
export function checkFullCatalogue(catalogue: Catalogue = fullCatalogue()): string[] {
  return checkCatalogue(catalogue, { datasets: DATASETS, subjects: SUBJECTS, tags: TAGS });
}

import { attributeDefinitionsDataset, attributeValuesDataset } from './attributes.ts';
import type { Dataset } from './catalogue.ts';
import { changeLogDataset } from './change-log.ts';
import { featuresDataset, featuresHistoryDataset, layersDataset, placeNamesDataset } from './geospatial.ts';
import {
  apiKeysDataset,
  auditLogDataset,
  departmentsDataset,
  grantsDataset,
  purposesDataset,
} from './governance.ts';
import {
  dataDisputesDataset,
  featureKeysDataset,
  importBatchesDataset,
  importLineageDataset,
  importRejectsDataset,
} from './imports.ts';
import { dataKeysDataset, keyRotationsDataset } from './keys.ts';
import {
  entitiesDataset,
  entitiesHistoryDataset,
  entityFormerNamesDataset,
  onlineShopsDataset,
  qualificationsDataset,
  shareholdingsDataset,
} from './legal-entity.ts';
import {
  householdMembersDataset,
  householdsDataset,
  householdsHistoryDataset,
  personsDataset,
  personsHistoryDataset,
  residencesDataset,
  vitalEventsDataset,
} from './population.ts';
import {
  qualityFailuresDataset,
  qualityIssueEventsDataset,
  qualityIssuesDataset,
  qualityRulesDataset,
  qualityRunRulesDataset,
  qualityRunsDataset,
} from './quality.ts';
import { codeListsDataset } from './reference.ts';
import { divisionsDataset } from './spatial.ts';
import { tagAssignmentsDataset, tagRunsDataset, tagsDataset } from './tags.ts';

/** Every dataset with its field catalogue: what the data-resource catalogue and grants refer to. */
export const DATASETS: readonly Dataset[] = [
  divisionsDataset,
  layersDataset,
  featuresDataset,
  featuresHistoryDataset,
  placeNamesDataset,
  codeListsDataset,
  personsDataset,
  personsHistoryDataset,
  householdsDataset,
  householdsHistoryDataset,
  householdMembersDataset,
  residencesDataset,
  vitalEventsDataset,
  entitiesDataset,
  entitiesHistoryDataset,
  entityFormerNamesDataset,
  shareholdingsDataset,
  qualificationsDataset,
  onlineShopsDataset,
  changeLogDataset,
  importBatchesDataset,
  importRejectsDataset,
  importLineageDataset,
  featureKeysDataset,
  dataDisputesDataset,
  departmentsDataset,
  purposesDataset,
  apiKeysDataset,
  grantsDataset,
  auditLogDataset,
  dataKeysDataset,
  keyRotationsDataset,
  qualityRulesDataset,
  qualityRunsDataset,
  qualityRunRulesDataset,
  qualityFailuresDataset,
  qualityIssuesDataset,
  qualityIssueEventsDataset,
  tagsDataset,
  tagAssignmentsDataset,
  tagRunsDataset,
  attributeDefinitionsDataset,
  attributeValuesDataset,
] as unknown as readonly Dataset[];

export function datasetById(id: string): Dataset | undefined {
  return DATASETS.find((d) => d.id === id);
}

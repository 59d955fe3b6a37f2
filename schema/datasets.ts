import type { Dataset } from './catalogue.ts';
import {
  apiKeysDataset,
  auditLogDataset,
  departmentsDataset,
  grantsDataset,
  purposesDataset,
} from './governance.ts';
import {
  householdMembersDataset,
  householdsDataset,
  personsDataset,
  personsHistoryDataset,
  residencesDataset,
  vitalEventsDataset,
} from './population.ts';
import { codeListsDataset } from './reference.ts';
import { divisionsDataset } from './spatial.ts';

/** Every dataset with its field catalogue: what the data-resource catalogue and grants refer to. */
export const DATASETS: readonly Dataset[] = [
  divisionsDataset,
  codeListsDataset,
  personsDataset,
  personsHistoryDataset,
  householdsDataset,
  householdMembersDataset,
  residencesDataset,
  vitalEventsDataset,
  departmentsDataset,
  purposesDataset,
  apiKeysDataset,
  grantsDataset,
  auditLogDataset,
] as unknown as readonly Dataset[];

export function datasetById(id: string): Dataset | undefined {
  return DATASETS.find((d) => d.id === id);
}

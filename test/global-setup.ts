import { prepareTemplate } from '../src/testing/database.ts';

export default async function setup(): Promise<() => Promise<void>> {
  return prepareTemplate();
}

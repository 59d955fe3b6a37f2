import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../../db/index.ts';
import { provinceOutlines, type ReportData, reportData } from './data.ts';
import { renderHtml } from './html.ts';

export type { ReportData } from './data.ts';
export { reportData } from './data.ts';
export { renderHtml } from './html.ts';

/** Writes `quality-<run>.json` and `quality-<run>.html` into `dir`; returns their paths and the data. */
export async function writeReports(
  db: Database,
  runId: number,
  dir = 'reports',
): Promise<{ json: string; html: string; data: ReportData }> {
  const data = await reportData(db, runId);
  const outlines = await provinceOutlines(db);
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `quality-${runId}.json`);
  const html = join(dir, `quality-${runId}.html`);
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(html, renderHtml(data, outlines));
  return { json, html, data };
}

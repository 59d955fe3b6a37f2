import { importLineageDataset } from '../../../schema/imports.ts';
import { builder } from '../../gateway/builder.ts';
import type { GatewayContext } from '../../gateway/context.ts';
import { EntityRef } from '../../registries/legal-entity/entity-types.ts';
import { PersonRef } from '../../registries/population/person-types.ts';
import { FeatureRef } from '../../registries/spatial/layer-queries.ts';

/**
 * Lineage in GraphQL: which row of which delivery (or correction) produced each version of a record — the
 * batch, its source department, file and checksum, the row, the version and when it was merged. Read from
 * import_lineage joined to import_batches; classified by governance.import_lineage (every field a
 * catalogue entry), and the link from a record to it requires a grant on that dataset like any link.
 */

export interface LineageRow {
  batchId: string;
  rowNo: number;
  version: number | null;
  action: 'inserted' | 'updated';
  sourceDept: string;
  fileName: string;
  fileChecksum: string;
  format: string;
  mergedAt: Date | null;
}

export async function lineageOf(
  ctx: GatewayContext,
  recordType: string,
  recordId: number,
): Promise<LineageRow[]> {
  const found = await ctx.db.query<LineageRow>(
    `SELECT l.batch_id AS "batchId", l.row_no AS "rowNo", l.version, l.action, b.source_dept AS "sourceDept",
            b.file_name AS "fileName", b.file_checksum AS "fileChecksum", b.format, b.finished_at AS "mergedAt"
       FROM import_lineage l JOIN import_batches b ON b.id = l.batch_id
      WHERE l.record_type = $1 AND l.record_id = $2 AND b.status = 'merged'
      ORDER BY b.finished_at DESC NULLS LAST, l.version DESC NULLS LAST, l.row_no`,
    [recordType, recordId],
  );
  return found.map((r) => ({ ...r, rowNo: Number(r.rowNo) }));
}

export const RecordLineageRef = builder.objectRef<LineageRow>('RecordLineage');
RecordLineageRef.implement({
  description: 'Which delivery row produced a version of a record (newest first)',
  dataset: importLineageDataset,
  fields: (t) => ({
    batchId: t.exposeString('batchId'),
    rowNo: t.exposeInt('rowNo', { description: 'Row number in the delivery (1 for a correction)' }),
    version: t.exposeInt('version', { nullable: true, description: 'The version the row produced' }),
    action: t.exposeString('action', { description: 'inserted or updated' }),
    sourceDept: t.exposeString('sourceDept'),
    fileName: t.exposeString('fileName'),
    fileChecksum: t.exposeString('fileChecksum', { description: 'SHA-256 of the delivered content' }),
    format: t.exposeString('format'),
    mergedAt: t.expose('mergedAt', { type: 'DateTime', nullable: true }),
  }),
});

const DESCRIPTION =
  'Which delivery rows produced this record’s versions: batch, source department, file checksum, row, newest ' +
  'first (needs a grant on governance.import_lineage)';

builder.objectField(PersonRef, 'lineage', (t) =>
  t.field({
    type: [RecordLineageRef],
    description: DESCRIPTION,
    access: 'link',
    requiresDataset: importLineageDataset,
    resolve: (p, _args, ctx) => lineageOf(ctx, 'person', Number(p.id)),
  }),
);

builder.objectField(EntityRef, 'lineage', (t) =>
  t.field({
    type: [RecordLineageRef],
    description: DESCRIPTION,
    access: 'link',
    requiresDataset: importLineageDataset,
    resolve: (e, _args, ctx) => lineageOf(ctx, 'entity', Number(e.id)),
  }),
);

builder.objectField(FeatureRef, 'lineage', (t) =>
  t.field({
    type: [RecordLineageRef],
    description: DESCRIPTION,
    access: 'link',
    requiresDataset: importLineageDataset,
    resolve: (f, _args, ctx) => lineageOf(ctx, 'feature', Number(f.id)),
  }),
);

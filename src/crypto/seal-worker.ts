import { parentPort, workerData } from 'node:worker_threads';
import { csvField } from '../db/csv-field.ts';
import { indexWith, type SealKeys, sealWith } from './at-rest.ts';
import {
  FIELD,
  NULL,
  ROW,
  type SealLayout,
  type SealRequest,
  type SealResponse,
} from './seal-worker-format.ts';

/**
 * A seal worker (src/crypto/seal-pool.ts): turns a batch of validated rows into COPY text, sealing and
 * blind-indexing the encrypted columns with the keys it was started with, so the SM4, HMAC-SM3 and CSV work
 * of a bulk import run beside the thread that reads and validates it. Batches are encoded as
 * seal-worker-format.ts describes.
 */

const start = workerData as { version: number; encKey: Uint8Array; macKey: Uint8Array; index: Uint8Array };
const keys: SealKeys = {
  data: { version: start.version, encKey: Buffer.from(start.encKey), macKey: Buffer.from(start.macKey) },
  index: Buffer.from(start.index),
};
start.encKey.fill(0);
start.macKey.fill(0);
start.index.fill(0);

function copyText(layout: SealLayout, rows: string): string {
  let out = '';
  let at = 0;
  const values: (string | null)[] = [];
  while (at < rows.length) {
    const end = rows.indexOf(ROW, at);
    values.length = 0;
    let field = at;
    while (field < end) {
      const stop = rows.indexOf(FIELD, field);
      const text = rows.slice(field, stop);
      values.push(text === NULL ? null : text);
      field = stop + 1;
    }
    let line = values[0]!;
    for (const f of layout.fields) {
      const value = values[f.from + 1] ?? null;
      line += `,${csvField(f.as === 'value' ? value : f.as === 'sealed' ? sealWith(keys, value) : indexWith(keys, f.kind!, value))}`;
    }
    out += `${line}\n`;
    at = end + 1;
  }
  return out;
}

parentPort!.on('message', (request: SealRequest) => {
  try {
    parentPort!.postMessage({
      id: request.id,
      text: copyText(request.layout, request.rows),
    } satisfies SealResponse);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message } satisfies SealResponse);
  }
});

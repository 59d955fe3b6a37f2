import { parentPort, workerData } from 'node:worker_threads';
import { csvField } from '../db/csv-field.ts';
import { indexBytesWith, type SealKeys, sealBytesWith } from './at-rest.ts';
import { sealedPrefix } from './field-cipher.ts';
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

/** COPY text built as UTF-8 bytes in one growing buffer: no string per line, no copy on the way back. */
class LineWriter {
  private buffer = Buffer.allocUnsafeSlow(1 << 20);
  length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  /** ASCII written as it is (a head, a ciphertext, a blind index). */
  ascii(text: string): void {
    this.room(text.length);
    this.length += this.buffer.write(text, this.length, 'latin1');
  }

  /** Bytes as base64url (RFC 4648 §5, no padding), as Buffer's 'base64url' writes them. */
  base64url(bytes: Buffer): void {
    const n = bytes.length;
    this.room(Math.ceil((n * 4) / 3));
    const out = this.buffer;
    let at = this.length;
    let i = 0;
    for (; i + 2 < n; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      out[at++] = BASE64URL[v >>> 18]!;
      out[at++] = BASE64URL[(v >>> 12) & 63]!;
      out[at++] = BASE64URL[(v >>> 6) & 63]!;
      out[at++] = BASE64URL[v & 63]!;
    }
    if (i < n) {
      const v = (bytes[i]! << 16) | (i + 1 < n ? bytes[i + 1]! << 8 : 0);
      out[at++] = BASE64URL[v >>> 18]!;
      out[at++] = BASE64URL[(v >>> 12) & 63]!;
      if (i + 1 < n) out[at++] = BASE64URL[(v >>> 6) & 63]!;
    }
    this.length = at;
  }

  byte(code: number): void {
    this.room(1);
    this.buffer[this.length++] = code;
  }

  /** A value as csvField quotes it. */
  value(value: string | null): void {
    if (value === null) return;
    const text = csvField(value);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** The bytes written, over a buffer of their own (so it can be transferred). */
  take(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
  }
}

const BASE64URL = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'latin1');
const COMMA = 0x2c;
/** The stored form's prefix, written before each sealed value's bytes. */
const PREFIX = sealedPrefix(keys.data);
const NEWLINE = 0x0a;

function copyBytes(layout: SealLayout, rows: string): Uint8Array {
  const out = new LineWriter();
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
    out.ascii(values[0]!);
    for (const f of layout.fields) {
      const value = values[f.from + 1] ?? null;
      out.byte(COMMA);
      if (f.as === 'value') out.value(value);
      else if (f.as === 'sealed') {
        const sealed = sealBytesWith(keys, value);
        if (sealed !== null) {
          out.ascii(PREFIX);
          out.base64url(sealed);
        }
      } else {
        const index = indexBytesWith(keys, f.kind!, value);
        if (index !== null) out.base64url(index);
      }
    }
    out.byte(NEWLINE);
    at = end + 1;
  }
  return out.take();
}

parentPort!.on('message', (request: SealRequest) => {
  try {
    const rows = Buffer.from(request.rows.buffer, request.rows.byteOffset, request.rows.byteLength);
    const bytes = copyBytes(request.layout, rows.toString('utf8'));
    parentPort!.postMessage({ id: request.id, bytes } satisfies SealResponse, [bytes.buffer as ArrayBuffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message } satisfies SealResponse);
  }
});

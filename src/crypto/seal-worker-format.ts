import type { AtRestKind } from '../../schema/catalogue.ts';

/**
 * How a batch travels to a seal worker (seal-worker.ts) and back: as UTF-8 bytes each way, their buffer
 * transferred, not copied (cloning thousands of small strings cost more than the cryptography saved; one
 * big string still costs a copy each way, and the COPY text's bytes are what the database connection sends).
 * Rows end with ROW, fields end with FIELD, NULL stands for a missing value; the first field of a row is its
 * COPY prefix, written as it is.
 */

export const FIELD = '\u0000';
export const ROW = '\u0001';
export const NULL = '\u0002';

export interface SealLayout {
  /** Per field of a row after the prefix: where its value comes from — the field itself, or the
   * ciphertext or blind index of field `from`. */
  fields: { from: number; as: 'value' | 'sealed' | 'index'; kind?: AtRestKind }[];
}

export interface SealRequest {
  id: number;
  layout: SealLayout;
  /** The batch, UTF-8 (BatchWriter). */
  rows: Uint8Array;
}

export interface SealResponse {
  id: number;
  /** The COPY lines, UTF-8. */
  bytes?: Uint8Array;
  error?: string;
}

/** Writes a batch as UTF-8 bytes into one growing buffer of its own (so it can be transferred). */
export class BatchWriter {
  private buffer = Buffer.allocUnsafeSlow(1 << 18);
  private length = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(2 * this.buffer.length, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  field(value: string | null): void {
    if (value === null) {
      this.room(2);
      this.buffer[this.length++] = NULL_CODE;
    } else {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      this.room(value.length * 3 + 1);
      this.length += this.buffer.write(value, this.length, 'utf8');
    }
    this.buffer[this.length++] = FIELD_CODE;
  }

  endRow(): void {
    this.room(1);
    this.buffer[this.length++] = ROW_CODE;
  }

  take(): Uint8Array {
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
  }
}

const FIELD_CODE = FIELD.charCodeAt(0);
const ROW_CODE = ROW.charCodeAt(0);
const NULL_CODE = NULL.charCodeAt(0);

import type { AtRestKind } from '../../schema/catalogue.ts';

/**
 * How a batch travels to a seal worker (seal-worker.ts) and back: as one string each way (cloning one
 * string is a copy; cloning thousands costs more than the cryptography saved). Rows end with ROW, fields
 * end with FIELD, NULL stands for a missing value; the first field of a row is its COPY prefix, written as
 * it is.
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
  rows: string;
}

export interface SealResponse {
  id: number;
  text?: string;
  error?: string;
}

import type { Row } from '../db/index.ts';

/**
 * The one place the quality passes read a citizen ID number from a scanned row (`persons.id_number`,
 * selected as `id_number`). ID numbers are to be stored SM4-encrypted; this function is where decryption
 * will go, so no rule reads the column any other way (and no SQL rule reads it at all).
 */
export function readIdNumber(row: Row): string | null {
  const value = row.id_number;
  return typeof value === 'string' ? value : null;
}

import type { Row } from '../db/index.ts';

/**
 * The one place the quality passes read a citizen ID number from a scanned row (`persons.id_number`,
 * selected as `id_number`). ID numbers are stored SM4-encrypted: the runner decrypts the encrypted columns
 * of each scanned page before the checks see it (src/quality/runner.ts), and the sample records of a report
 * are decrypted the same way, so here the value is in clear. No SQL rule reads the column (it would see a
 * ciphertext); exact matches use `id_number_bidx`.
 */
export function readIdNumber(row: Row): string | null {
  const value = row.id_number;
  return typeof value === 'string' ? value : null;
}

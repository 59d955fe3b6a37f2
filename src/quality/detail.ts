import type { FieldEntry } from '../../schema/catalogue.ts';
import { datasetById } from '../../schema/datasets.ts';
import { applyMask } from '../access/masking.ts';

/**
 * Detail texts of failing records are read by stewards, printed in reports and kept in the database, so
 * they carry values only as the field catalogue allows a steward-level reader without a purpose: public
 * and internal values in clear, restricted and sensitive ones through their mask rule (ID number →
 * 110105********123X, date → year), and a field that cannot be masked as '***'.
 */
export function shown(datasetId: string, field: string, value: unknown): string {
  if (value === null || value === undefined) return '∅';
  const dataset = datasetById(datasetId);
  const entry =
    (dataset?.fields as Record<string, FieldEntry | undefined> | undefined)?.[field] ??
    (dataset?.derived as Record<string, FieldEntry | undefined> | undefined)?.[field];
  // Fail closed: a field the catalogue does not know is withheld.
  if (!entry) return '***';
  if (entry.level === 'public' || entry.level === 'internal') return String(value);
  if (entry.mask === 'none') return '***';
  const masked = applyMask(entry.mask, value);
  return masked === null || masked === undefined ? '***' : String(masked);
}

const ID_LIKE = /(\d{6})\d{8}(\d{3}[\dXx])/g;
const MOBILE_LIKE = /(^|\D)(1[3-9]\d)\d{4}(\d{4})(?!\d)/g;

/**
 * The last line of defence for every detail, built-in or a steward's: anything shaped like a citizen ID
 * number or a mobile number is masked the way the catalogue masks those fields.
 */
export function scrubDetail(detail: string | null): string | null {
  if (detail === null) return null;
  return detail.replace(ID_LIKE, '$1********$2').replace(MOBILE_LIKE, '$1$2****$3');
}

/** The same scrub in SQL, for set-based checks whose details never pass through Node. */
export function scrubDetailSql(expression: string): string {
  return `regexp_replace(regexp_replace(${expression}, '([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])', '\\1********\\2', 'g'), '(^|[^0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])', '\\1\\2****\\3', 'g')`;
}

import type { MaskRule } from '../../schema/catalogue.ts';
import type { Geometry } from '../db/geojson.ts';

/**
 * Masking keeps a value's shape and drops what identifies: enough for a caseworker to recognise a
 * record, not enough to reuse the value. Masked values are derived from the clear value, here only.
 */

const COUNTY_SUFFIXES = new Set(['区', '县', '旗']);

/** 110101********1234 */
export function maskIdNumber(value: string): string {
  if (value.length < 10) return '*'.repeat(value.length);
  return value.slice(0, 6) + '*'.repeat(value.length - 10) + value.slice(-4);
}

/** 138****5678. At least four characters are hidden, whatever the length (a 7-digit number in full). */
export function maskPhone(value: string): string {
  if (value.length < 8) return '*'.repeat(value.length);
  const head = Math.min(3, value.length - 8);
  return value.slice(0, head) + '*'.repeat(value.length - head - 4) + value.slice(-4);
}

/** 张** — the surname stays, the given name goes. */
export function maskName(value: string): string {
  const chars = [...value];
  if (chars.length <= 1) return '*';
  return chars[0] + '*'.repeat(chars.length - 1);
}

/**
 * Where the part of an address below the county begins: towns, streets, compounds, buildings. Nothing from
 * the first of these on is kept, so a 区 in 阳光小区 or a 市 in 市场 cannot pass for the county.
 */
const FINER_MARKERS = [
  '镇',
  '乡',
  '街',
  '路',
  '巷',
  '弄',
  '胡同',
  '村',
  '号',
  '小区',
  '社区',
  '栋',
  '幢',
  '楼',
  '单元',
  '室',
  '组',
];

/**
 * Cuts an address after its county-level unit (…区/县/旗, else the last …市 of the prefix), so the caller
 * learns the county and nothing finer. Only the part before the first town/street/building marker is
 * searched: when in doubt it cuts earlier (北京市****), never later.
 */
export function maskAddress(value: string): string {
  const chars = [...value];
  let limit = Math.min(chars.length, 24);
  for (let i = 0; i < limit; i++) {
    if (FINER_MARKERS.some((m) => chars.slice(i, i + [...m].length).join('') === m)) {
      limit = i;
      break;
    }
  }
  for (let i = 0; i < limit; i++) {
    if (COUNTY_SUFFIXES.has(chars[i]!)) return `${chars.slice(0, i + 1).join('')}****`;
  }
  let lastCity = -1;
  for (let i = 0; i < Math.min(limit, 16); i++) if (chars[i] === '市') lastCity = i;
  return lastCity >= 0 ? `${chars.slice(0, lastCity + 1).join('')}****` : '****';
}

/** Snaps a location to the centre of its 0.01° cell (about 1 km). */
export function maskPoint(value: Geometry): Geometry {
  const snap = (v: number) => (Math.floor(v * 100) + 0.5) / 100;
  if (value.type === 'Point') {
    return { type: 'Point', coordinates: [snap(value.coordinates[0]), snap(value.coordinates[1])] };
  }
  return { type: 'Point', coordinates: [0, 0] };
}

/** An ISO 8601 date reduced to its year ('1949'). */
export function maskDate(value: string): string {
  return value.slice(0, 4);
}

export function applyMask(rule: MaskRule, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  switch (rule) {
    case 'idNumber':
      return maskIdNumber(String(value));
    case 'phone':
      return maskPhone(String(value));
    case 'name':
      return maskName(String(value));
    case 'address':
      return maskAddress(String(value));
    case 'point':
      return maskPoint(value as Geometry);
    case 'date':
      return maskDate(String(value));
    case 'redact':
      return '***';
    case 'none':
      // A field that cannot be masked is never in a MASK decision; fail closed if it is.
      return null;
  }
}

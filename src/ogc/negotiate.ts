import { problems } from './problems.ts';

/**
 * Format negotiation: `f=json|html` wins; else the Accept header (q-values honoured). No Accept, or `*\/*`,
 * is JSON: GDAL sends `Accept: application/json` and must get JSON; a browser asks for text/html first.
 */
export type Format = 'json' | 'html';

const JSON_TYPES = [
  'application/json',
  'application/geo+json',
  'application/schema+json',
  'application/vnd.oai.openapi+json',
  'application/problem+json',
];
const HTML_TYPES = ['text/html', 'application/xhtml+xml'];

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  return header
    .split(',')
    .map((part) => {
      const [mediaRange = '', ...parameters] = part.trim().split(';');
      const [type = '', subtype = ''] = mediaRange.trim().toLowerCase().split('/');
      let q = 1;
      for (const p of parameters) {
        const [k, v] = p.trim().split('=');
        if (k === 'q' && v !== undefined) q = Number(v);
      }
      return { type, subtype, q: Number.isFinite(q) ? q : 0 };
    })
    .filter((r) => r.type && r.subtype);
}

/** The q of a concrete media type under the Accept ranges: the most specific matching range decides. */
function quality(ranges: Range[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best = -1;
  let specificity = -1;
  for (const r of ranges) {
    const s =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1;
    if (s > specificity) {
      specificity = s;
      best = r.q;
    }
  }
  return Math.max(best, 0);
}

export function negotiate(request: Request, url: URL, offered: { html: boolean; json: string }): Format {
  const offeredTypes = [offered.json, ...(offered.html ? ['text/html'] : [])];
  const f = url.searchParams.get('f');
  if (f !== null) {
    const value = f.toLowerCase();
    if (['json', 'geojson', ...JSON_TYPES].includes(value)) return 'json';
    if (offered.html && ['html', ...HTML_TYPES].includes(value)) return 'html';
    throw problems.notAcceptable(offeredTypes);
  }
  const accept = request.headers.get('accept');
  if (!accept) return 'json';
  const ranges = parseAccept(accept);
  const json = Math.max(...JSON_TYPES.map((t) => quality(ranges, t)));
  const html = offered.html ? Math.max(...HTML_TYPES.map((t) => quality(ranges, t))) : 0;
  if (json <= 0 && html <= 0) throw problems.notAcceptable(offeredTypes);
  return html > json ? 'html' : 'json';
}

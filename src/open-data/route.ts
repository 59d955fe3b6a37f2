import { errors, GovError } from '../errors.ts';
import type { GatewayServices, Route } from '../gateway/server.ts';
import { DIVISION_LEVELS, OPEN_DATASETS, type OpenParameters, openDatasetById } from './datasets.ts';
import {
  CONTENT_TYPES,
  exportAuditEntry,
  exportOpenDataset,
  fileName,
  OPEN_FORMATS,
  type OpenFormat,
} from './export.ts';

/**
 * /open — open-data downloads, for everyone (the public principal included), of the public-level datasets
 * declared in src/open-data/datasets.ts:
 *   GET /open                                   index (JSON): datasets, formats, links
 *   GET /open/{id}.csv | /open/{id}.geojson     the file; `Digest: sha-256=…` and `X-Checksum-SM3`
 *   GET /open/{id}.{format}.manifest.json       its manifest (sources, time, rows, SHA-256 and SM3)
 * Parameters: `asOf=YYYY-MM-DD` (population), `level=province,city,county` (divisions). Every download is
 * audited (channel `export`) before it is served; no audit, no file.
 */

export interface OpenRouteOptions {
  prefix?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Parameters from a query string (or the command line), validated. */
export function openParameters(
  input: { asOf?: string | null; level?: string | null },
  suppressionThreshold: number,
  today = new Date().toISOString().slice(0, 10),
): OpenParameters {
  const asOf = input.asOf ?? today;
  if (!DATE.test(asOf) || Number.isNaN(Date.parse(asOf)))
    throw errors.invalidArgument('asOf', 'must be a date YYYY-MM-DD');
  const levels = input.level ? input.level.split(',').map((l) => l.trim()) : [...DIVISION_LEVELS];
  for (const level of levels) {
    if (!(DIVISION_LEVELS as readonly string[]).includes(level))
      throw errors.invalidArgument('level', `'${level}' is not one of ${DIVISION_LEVELS.join(', ')}`);
  }
  return { asOf, suppressionThreshold, levels };
}

export function openDataRoute(options: OpenRouteOptions = {}): Route {
  const prefix = options.prefix ?? '/open';
  return {
    prefix,
    async handle(request: Request, services: GatewayServices): Promise<Response> {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        throw new GovError('METHOD_NOT_ALLOWED', `${request.method} is not supported on ${prefix}`);
      const url = new URL(request.url);
      const path = url.pathname.slice(prefix.length);
      if (path === '' || path === '/') {
        return Response.json({
          title: '开放数据 Open data',
          description:
            'Public-level datasets of the foundational information base, with manifests and checksums',
          datasets: OPEN_DATASETS.map((d) => ({
            id: d.id,
            title: d.title,
            description: d.description,
            sources: d.sources,
            formats: [...OPEN_FORMATS],
            geometry: d.geometry ? d.geometry.name : null,
            links: OPEN_FORMATS.flatMap((f) => [
              { rel: 'enclosure', type: CONTENT_TYPES[f], href: `${prefix}/${fileName(d, f)}` },
              {
                rel: 'describedby',
                type: 'application/json',
                href: `${prefix}/${fileName(d, f)}.manifest.json`,
              },
            ]),
          })),
        });
      }
      const match = /^\/([a-z0-9-]+)\.(csv|geojson)(\.manifest\.json)?$/.exec(path);
      const dataset = match ? openDatasetById(match[1]!) : undefined;
      if (!match || !dataset) throw errors.notFound(`Open dataset '${path.slice(1)}'`);
      const format = match[2] as OpenFormat;
      const parameters = openParameters(
        { asOf: url.searchParams.get('asOf'), level: url.searchParams.get('level') },
        services.config.suppressionThreshold,
      );
      const exported = await exportOpenDataset(services.db, dataset, format, parameters);
      if (match[3]) return Response.json(exported.manifest);
      if (services.audit) {
        const principal = await services.principalOf(request);
        try {
          await services.audit.append(exportAuditEntry(principal, exported));
        } catch {
          throw errors.auditUnavailable();
        }
      }
      return new Response(request.method === 'HEAD' ? null : new Uint8Array(exported.body), {
        headers: {
          'content-type': CONTENT_TYPES[format],
          'content-disposition': `attachment; filename="${exported.manifest.file}"`,
          digest: `sha-256=${Buffer.from(exported.manifest.sha256, 'hex').toString('base64')}`,
          'x-checksum-sha256': exported.manifest.sha256,
          'x-checksum-sm3': exported.manifest.sm3,
          'x-row-count': String(exported.manifest.rows),
          link: `<${prefix}/${exported.manifest.file}.manifest.json>; rel="describedby"; type="application/json"`,
        },
      });
    },
  };
}

/**
 * The HTML representation of the OGC API resources (conformance class /conf/html): plain server-rendered
 * pages, every value escaped, links between them so a person can browse the API. The map page is not
 * here (src/ogc serves data; a map is another endpoint's job).
 */

export interface Link {
  href: string;
  rel: string;
  type?: string;
  title?: string;
  templated?: boolean;
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function a(href: string, text: unknown): string {
  return `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
}

/** The HTML twin of a JSON link: same resource with f=html. */
export function htmlHref(href: string): string {
  const url = new URL(href);
  url.searchParams.set('f', 'html');
  return url.toString();
}

function page(title: string, body: string, breadcrumbs: [string, string][] = []): string {
  const crumbs = breadcrumbs.map(([href, text]) => a(href, text)).join(' › ');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{background:#f6f8fa;padding:.1rem .3rem}nav{margin-bottom:1rem;color:#57606a}
.pager a{margin-right:1rem}
</style></head>
<body><nav>${crumbs}</nav><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

function linkList(links: Link[]): string {
  return `<ul>${links
    .map(
      (l) =>
        `<li>${a(l.href, l.title ?? l.rel)} <small>(${escapeHtml(l.rel)}${l.type ? `, ${escapeHtml(l.type)}` : ''})</small></li>`,
    )
    .join('')}</ul>`;
}

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function landingHtml(
  doc: { title: string; description: string; links: Link[] },
  root: string,
): string {
  return page(doc.title, `<p>${escapeHtml(doc.description)}</p>${linkList(doc.links)}`, [
    [htmlHref(root), 'Home'],
  ]);
}

export function conformanceHtml(classes: string[], root: string): string {
  return page(
    'Conformance',
    `<ul>${classes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('')}</ul>`,
    [[htmlHref(root), 'Home']],
  );
}

interface CollectionDoc {
  id: string;
  title: string;
  description: string;
  extent?: { spatial?: { bbox: number[][] }; temporal?: { interval: (string | null)[][] } };
  crs: string[];
  storageCrs: string;
  links: Link[];
}

export function collectionsHtml(collections: CollectionDoc[], root: string): string {
  const rows = collections.map((c) => [
    a(htmlHref(`${root}/collections/${c.id}`), c.id),
    escapeHtml(c.title),
    escapeHtml(c.description),
    a(htmlHref(`${root}/collections/${c.id}/items`), 'items'),
  ]);
  return page('Collections', table(['id', 'title', 'description', ''], rows), [[htmlHref(root), 'Home']]);
}

export function collectionHtml(c: CollectionDoc, root: string): string {
  const bbox = c.extent?.spatial?.bbox[0];
  const interval = c.extent?.temporal?.interval[0];
  const body = `<p>${escapeHtml(c.description)}</p>
${table(
  ['', ''],
  [
    ['Spatial extent (CRS84)', escapeHtml(bbox ? bbox.join(', ') : 'empty')],
    ['Temporal extent', escapeHtml(interval ? interval.map((v) => v ?? '..').join(' / ') : '—')],
    ['CRS', c.crs.map((x) => `<code>${escapeHtml(x)}</code>`).join('<br>')],
    ['Storage CRS', `<code>${escapeHtml(c.storageCrs)}</code>`],
  ],
)}
${linkList(c.links)}`;
  return page(c.title, body, [
    [htmlHref(root), 'Home'],
    [htmlHref(`${root}/collections`), 'Collections'],
  ]);
}

export interface FeatureHtml {
  id: string | number;
  properties: Record<string, unknown>;
  geometryType: string | null;
}

export function itemsHtml(
  c: { id: string; title: string },
  features: FeatureHtml[],
  info: { numberMatched: number; offset: number; links: Link[] },
  root: string,
): string {
  const names = [...new Set(features.flatMap((f) => Object.keys(f.properties)))];
  const rows = features.map((f) => [
    a(htmlHref(`${root}/collections/${c.id}/items/${encodeURIComponent(String(f.id))}`), f.id),
    ...names.map((n) => escapeHtml(f.properties[n] ?? '')),
    escapeHtml(f.geometryType ?? '—'),
  ]);
  const pager = info.links
    .filter((l) => l.rel === 'prev' || l.rel === 'next')
    .map((l) => a(htmlHref(l.href), l.rel === 'next' ? 'Next page ›' : '‹ Previous page'))
    .join('');
  const from = features.length ? info.offset + 1 : 0;
  const body = `<p>Features ${from}–${info.offset + features.length} of ${info.numberMatched}.</p>
${table(['id', ...names, 'geometry'], rows)}<p class="pager">${pager}</p>`;
  return page(`${c.title}: features`, body, [
    [htmlHref(root), 'Home'],
    [htmlHref(`${root}/collections`), 'Collections'],
    [htmlHref(`${root}/collections/${c.id}`), c.title],
  ]);
}

export function itemHtml(c: { id: string; title: string }, f: FeatureHtml, root: string): string {
  const rows = Object.entries(f.properties).map(([k, v]) => [escapeHtml(k), escapeHtml(v ?? '')]);
  rows.push(['geometry', escapeHtml(f.geometryType ?? '—')]);
  return page(`${c.title}: ${f.id}`, table(['property', 'value'], rows), [
    [htmlHref(root), 'Home'],
    [htmlHref(`${root}/collections`), 'Collections'],
    [htmlHref(`${root}/collections/${c.id}`), c.title],
    [htmlHref(`${root}/collections/${c.id}/items`), 'Features'],
  ]);
}

export function schemaHtml(
  title: string,
  schema: { properties: Record<string, Record<string, unknown>> },
  root: string,
  collection: string,
): string {
  const rows = Object.entries(schema.properties).map(([name, s]) => [
    `<code>${escapeHtml(name)}</code>`,
    escapeHtml(s.type ?? s.format ?? ''),
    escapeHtml(s.format ?? ''),
    escapeHtml(s.title ?? s.description ?? ''),
  ]);
  return page(title, table(['name', 'type', 'format', 'description'], rows), [
    [htmlHref(root), 'Home'],
    [htmlHref(`${root}/collections/${collection}`), collection],
  ]);
}

export function apiHtml(doc: unknown, root: string): string {
  return page('API definition (OpenAPI 3.0)', `<pre>${escapeHtml(JSON.stringify(doc, null, 2))}</pre>`, [
    [htmlHref(root), 'Home'],
  ]);
}

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Route } from '../gateway/server.ts';

/**
 * /map — a self-contained map page: MapLibre GL JS served from node_modules (no CDN, no external basemap),
 * the county divisions from our own vector tiles as the base, a layer switcher over every tileset the
 * caller may see (/tiles), a popup with the clicked feature's properties, and a county choropleth of
 * residents (the `persons-per-county` collection, small counts suppressed). An API key given as
 * `/map?key=…` is sent as a bearer token with every tile request.
 */

const VENDOR_FILES: Record<string, string> = {
  'maplibre-gl.mjs': 'text/javascript',
  'maplibre-gl-shared.mjs': 'text/javascript',
  'maplibre-gl-worker.mjs': 'text/javascript',
  'maplibre-gl.css': 'text/css',
};

function distDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('maplibre-gl/package.json')), 'dist');
}

export interface MapRouteOptions {
  prefix?: string;
  tilesPrefix?: string;
}

export function mapRoute(options: MapRouteOptions = {}): Route {
  const prefix = options.prefix ?? '/map';
  const tilesPrefix = options.tilesPrefix ?? '/tiles';
  const dist = distDir();
  return {
    prefix,
    async handle(request) {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return new Response('method not allowed', { status: 405, headers: { allow: 'GET, HEAD' } });
      }
      const path = new URL(request.url).pathname.slice(prefix.length);
      if (path === '' || path === '/') {
        return new Response(page(prefix, tilesPrefix), {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy':
              "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
              "worker-src 'self' blob:; img-src 'self' data: blob:; connect-src 'self'",
          },
        });
      }
      const name = path.startsWith('/vendor/') ? path.slice('/vendor/'.length) : '';
      const type = VENDOR_FILES[name];
      if (!type) return new Response('not found', { status: 404 });
      return new Response(await readFile(join(dist, name)), {
        headers: { 'content-type': type, 'cache-control': 'public, max-age=86400' },
      });
    },
  };
}

function page(prefix: string, tilesPrefix: string): string {
  return `<!doctype html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>govbase map</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${prefix}/vendor/maplibre-gl.css">
<style>
  html, body, #map { margin: 0; height: 100%; }
  body { font: 13px system-ui, sans-serif; }
  #panel { position: absolute; top: 8px; left: 8px; z-index: 2; background: #fff; padding: 8px 10px;
           border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3); max-height: 80%; overflow: auto; }
  #panel label { display: block; white-space: nowrap; }
  .maplibregl-popup-content table td { padding: 0 4px; }
</style>
</head>
<body>
<div id="panel"><strong>Layers</strong><div id="layers"></div>
<div id="legend">Residents per county: <span style="background:#fee5d9">&nbsp;&lt;50&nbsp;</span><span style="background:#fcae91">&nbsp;&lt;500&nbsp;</span><span style="background:#fb6a4a">&nbsp;&lt;5000&nbsp;</span><span style="background:#cb181d;color:#fff">&nbsp;≥5000&nbsp;</span><span style="background:#ccc">&nbsp;suppressed&nbsp;</span></div></div>
<div id="map"></div>
<script type="module">
import * as maplibregl from '${prefix}/vendor/maplibre-gl.mjs';
const params = new URLSearchParams(location.search);
const key = params.get('key');
const auth = key ? { Authorization: 'Bearer ' + key } : {};
window.mapState = { ready: false, rendered: 0, errors: [] };
const { tilesets } = await (await fetch('${tilesPrefix}', { headers: auth })).json();
const base = ['divisions-province', 'divisions-city', 'divisions-county'];
const tileUrl = (id) => location.origin + '${tilesPrefix}/' + id + '/{z}/{x}/{y}.mvt';
const sources = {};
for (const t of tilesets) sources[t.id] = { type: 'vector', tiles: [tileUrl(t.id)], minzoom: 0, maxzoom: 14 };
const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#eef2f5' } }];
const colours = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4'];
const has = (id) => tilesets.some((t) => t.id === id);
if (has('persons-per-county')) {
  layers.push({ id: 'persons-per-county', type: 'fill', source: 'persons-per-county', 'source-layer': 'persons-per-county',
    paint: { 'fill-opacity': 0.7, 'fill-color': ['case', ['!', ['has', 'residents']], '#cccccc',
      ['==', ['get', 'residents'], null], '#cccccc',
      ['step', ['to-number', ['get', 'residents'], 0], '#fee5d9', 50, '#fcae91', 500, '#fb6a4a', 5000, '#cb181d']] } });
}
for (const id of base) if (has(id)) {
  layers.push({ id, type: 'line', source: id, 'source-layer': id,
    paint: { 'line-color': id === 'divisions-province' ? '#333' : '#889', 'line-width': id === 'divisions-province' ? 1.5 : 0.5 } });
}
const overlays = tilesets.filter((t) => !base.includes(t.id) && t.id !== 'persons-per-county');
// Fills first, then lines, then points, so points stay clickable on top of polygons.
const overlayLayer = (t, i, kind) => {
  const colour = colours[i % colours.length];
  const common = { source: t.id, 'source-layer': t.id };
  if (kind === 'fill') return { id: t.id + '-fill', type: 'fill', ...common,
    filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': colour, 'fill-opacity': 0.45 } };
  if (kind === 'line') return { id: t.id + '-line', type: 'line', ...common,
    filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': colour, 'line-width': 2 } };
  return { id: t.id + '-point', type: 'circle', ...common,
    filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-color': colour, 'circle-radius': 5,
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } };
};
for (const kind of ['fill', 'line', 'point']) overlays.forEach((t, i) => layers.push(overlayLayer(t, i, kind)));
const centre = (params.get('center') || '116.4,39.9').split(',').map(Number);
const map = new maplibregl.Map({
  container: 'map',
  style: { version: 8, sources, layers },
  center: centre, zoom: Number(params.get('zoom') || 8),
  transformRequest: (url) => (url.startsWith(location.origin) ? { url, headers: auth } : { url }),
  attributionControl: false,
});
window.map = map;
map.on('error', (e) => window.mapState.errors.push(String(e.error && e.error.message)));
const panel = document.getElementById('layers');
for (const t of [...tilesets.filter((t) => t.id === 'persons-per-county'), ...overlays]) {
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox'; box.checked = true; box.dataset.collection = t.id;
  box.onchange = () => {
    for (const l of map.getStyle().layers) if (l.source === t.id) map.setLayoutProperty(l.id, 'visibility', box.checked ? 'visible' : 'none');
  };
  label.append(box, ' ', t.title);
  panel.append(label);
}
const clickable = () => map.getStyle().layers.filter((l) => l.source && !base.includes(l.source)).map((l) => l.id);
map.on('click', (e) => {
  const [f] = map.queryRenderedFeatures(e.point, { layers: clickable() });
  if (!f) return;
  window.mapState.clicked = { source: f.layer.source, properties: f.properties };
  const rows = Object.entries(f.properties).map(([k, v]) => '<tr><td>' + k + '</td><td>' + String(v).replace(/</g, '&lt;') + '</td></tr>').join('');
  new maplibregl.Popup().setLngLat(e.lngLat)
    .setHTML('<div class="feature-popup"><b>' + f.layer.source + '</b><table>' + rows + '</table></div>').addTo(map);
});
map.on('idle', () => {
  window.mapState.rendered = map.queryRenderedFeatures().length;
  window.mapState.ready = true;
});
</script>
</body>
</html>`;
}

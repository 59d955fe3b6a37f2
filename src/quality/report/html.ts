import { QUALITY_DIMENSIONS } from '../../../schema/quality.ts';
import type { DivisionCount, ReportData, ReportRule, TrendPoint } from './data.ts';

/**
 * The steward's report as one self-contained HTML file: inline CSS and SVG, no script, no external asset,
 * so it opens from disk and can be mailed. Every value in it comes from the run's records, whose details
 * and sample fields were masked when written.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const pct = (value: number | null, digits = 2) =>
  value === null ? '—' : `${(value * 100).toFixed(digits)} %`;
const num = (value: number) => value.toLocaleString('en-US');

/** Green at 100 %, through yellow and orange, to red at 95 % and below. */
export function scoreColour(score: number | null): string {
  if (score === null) return '#e5e7eb';
  if (score >= 0.9999) return '#bbf7d0';
  if (score >= 0.999) return '#d9f99d';
  if (score >= 0.99) return '#fef08a';
  if (score >= 0.95) return '#fed7aa';
  return '#fecaca';
}

const REGISTRY_COLOURS = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];

function scoreTable(data: ReportData): string {
  const registries = [...new Set(data.scores.map((s) => s.registry))];
  const dims = QUALITY_DIMENSIONS.filter((d) => data.scores.some((s) => s.dimension === d));
  const cell = (registry: string, dimension: string) => {
    const s = data.scores.find((x) => x.registry === registry && x.dimension === dimension);
    if (!s) return '<td class="na">—</td>';
    return `<td style="background:${scoreColour(s.score)}" title="${escapeHtml(`${num(s.passed)} passed of ${num(s.checked)} checked`)}"><b>${pct(s.score)}</b><br><small>${num(s.passed)} / ${num(s.checked)}</small></td>`;
  };
  const total = (registry: string) => {
    const list = data.scores.filter((s) => s.registry === registry);
    const checked = list.reduce((n, s) => n + s.checked, 0);
    const passed = list.reduce((n, s) => n + s.passed, 0);
    const score = checked > 0 ? passed / checked : null;
    return `<td style="background:${scoreColour(score)}"><b>${pct(score)}</b><br><small>${num(passed)} / ${num(checked)}</small></td>`;
  };
  return `<table class="scores"><thead><tr><th>registry</th>${dims.map((d) => `<th>${escapeHtml(d)}</th>`).join('')}<th>all</th></tr></thead><tbody>${registries
    .map((r) => `<tr><th>${escapeHtml(r)}</th>${dims.map((d) => cell(r, d)).join('')}${total(r)}</tr>`)
    .join('')}</tbody></table>`;
}

/** Line chart of the overall and per-registry scores over runs. */
export function trendSvg(trend: readonly TrendPoint[]): string {
  const width = 720;
  const height = 240;
  const left = 60;
  const right = 150;
  const top = 16;
  const bottom = 36;
  if (trend.length === 0) return '<p>No earlier runs.</p>';
  const registries = [...new Set(trend.flatMap((t) => Object.keys(t.registries)))].sort();
  const values = trend
    .flatMap((t) => [t.overall, ...Object.values(t.registries)])
    .filter((v): v is number => v !== null);
  const min = Math.max(0, Math.min(...values, 1) - 0.005);
  const span = Math.max(1 - min, 0.001);
  const x = (i: number) =>
    left +
    (trend.length === 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (trend.length - 1));
  const y = (v: number) => top + ((1 - v) / span) * (height - top - bottom);
  const series = [
    { name: 'overall', colour: '#111827', values: trend.map((t) => t.overall), wide: true },
    ...registries.map((r, i) => ({
      name: r,
      colour: REGISTRY_COLOURS[i % REGISTRY_COLOURS.length]!,
      values: trend.map((t) => t.registries[r] ?? null),
      wide: false,
    })),
  ];
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => min + f * span);
  const lines = series
    .map((s, si) => {
      const points = s.values
        .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
        .filter((p): p is string => p !== null);
      const dots = s.values
        .map((v, i) =>
          v === null
            ? ''
            : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${s.colour}"><title>${escapeHtml(`${s.name}, run ${trend[i]!.runId}: ${pct(v, 3)}`)}</title></circle>`,
        )
        .join('');
      return `<polyline fill="none" stroke="${s.colour}" stroke-width="${s.wide ? 3 : 1.5}" points="${points.join(' ')}"/>${dots}<text x="${width - right + 12}" y="${top + 14 + si * 16}" font-size="12" fill="${s.colour}">■ ${escapeHtml(s.name)}</text>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Score trend">
${ticks.map((t) => `<line x1="${left}" x2="${width - right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e7eb"/><text x="${left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${pct(t, 1)}</text>`).join('')}
${trend.map((t, i) => `<text x="${x(i).toFixed(1)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle">#${t.runId}</text>`).join('')}
${lines}</svg>`;
}

/** Horizontal bars: failure rate per rule (square-root scale), with the threshold marked. */
export function ruleBarsSvg(rules: readonly ReportRule[]): string {
  const rowHeight = 22;
  const labelWidth = 360;
  const barWidth = 300;
  const width = labelWidth + barWidth + 170;
  const height = rules.length * rowHeight + 24;
  const max = Math.max(...rules.map((r) => Math.max(r.rate, r.threshold)), 0.0001);
  const scale = (v: number) => Math.sqrt(v / max) * barWidth;
  const rows = rules
    .map((r, i) => {
      const yy = 12 + i * rowHeight;
      const colour = r.exceeded ? (r.severity === 'error' ? '#dc2626' : '#d97706') : '#16a34a';
      return `<g><title>${escapeHtml(`${r.id}: ${num(r.failed)} of ${num(r.checked)} (${pct(r.rate, 3)}), threshold ${pct(r.threshold, 3)}`)}</title>
<text x="${labelWidth - 8}" y="${yy + 14}" font-size="11" text-anchor="end">${escapeHtml(r.id)}</text>
<rect x="${labelWidth}" y="${yy + 3}" width="${Math.max(r.failed > 0 ? 1.5 : 0, scale(r.rate)).toFixed(1)}" height="${rowHeight - 8}" fill="${colour}"/>
<line x1="${(labelWidth + scale(r.threshold)).toFixed(1)}" x2="${(labelWidth + scale(r.threshold)).toFixed(1)}" y1="${yy}" y2="${yy + rowHeight - 2}" stroke="#111827" stroke-dasharray="3 2"/>
<text x="${labelWidth + barWidth + 10}" y="${yy + 14}" font-size="11">${num(r.failed)} · ${pct(r.rate, 3)}</text></g>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Failure rate per rule">${rows}</svg>`;
}

/** Choropleth of failures per province, from simplified boundary paths (x scaled by cos 35° for shape). */
export function provinceMapSvg(
  outlines: readonly { code: string; name: string; path: string }[],
  counts: readonly DivisionCount[],
): string {
  if (outlines.length === 0) return '<p>No province boundaries loaded.</p>';
  const byCode = new Map(counts.map((c) => [c.code, c.failures]));
  const max = Math.max(1, ...counts.map((c) => c.failures));
  const fill = (n: number) => {
    if (n === 0) return '#f3f4f6';
    const t = Math.sqrt(n / max);
    const light = Math.round(92 - t * 55);
    return `hsl(0 75% ${light}%)`;
  };
  const k = Math.cos((35 * Math.PI) / 180);
  const paths = outlines
    .map((o) => {
      const n = byCode.get(o.code) ?? 0;
      return `<path d="${escapeHtml(o.path)}" fill="${fill(n)}" stroke="#6b7280" stroke-width="0.08"><title>${escapeHtml(`${o.code} ${o.name}: ${num(n)} failures`)}</title></path>`;
    })
    .join('');
  const minX = 73 * k;
  const widthDeg = (136 - 73) * k;
  return `<svg class="map" viewBox="${minX.toFixed(2)} -54 ${widthDeg.toFixed(2)} 51" width="640" height="${Math.round((640 * 51) / widthDeg)}" role="img" aria-label="Failures by province"><g transform="scale(${k.toFixed(4)} 1)">${paths}</g></svg>
<p class="legend"><span style="background:#f3f4f6"></span> none <span style="background:${fill(max / 9)}"></span> few <span style="background:${fill(max)}"></span> most (${num(max)})</p>`;
}

function rulesTable(rules: readonly ReportRule[]): string {
  const delta = (r: ReportRule) => {
    if (r.previousFailed === null) return '<td class="na">new</td>';
    const d = r.failed - r.previousFailed;
    return `<td class="${d > 0 ? 'up' : d < 0 ? 'down' : ''}">${d > 0 ? '+' : ''}${num(d)}</td>`;
  };
  return `<table class="rules"><thead><tr><th>rule</th><th>dimension</th><th>severity</th><th>checked</th><th>failed</th><th>rate</th><th>threshold</th><th>vs previous</th><th>version</th><th>ms</th></tr></thead><tbody>${rules
    .map(
      (
        r,
      ) => `<tr class="${r.exceeded ? `exceeded ${r.severity}` : ''}"><td><b>${escapeHtml(r.id)}</b><br><small>${escapeHtml(r.description)}</small><br><small class="src">${escapeHtml(r.kind)} · ${escapeHtml(r.source)}</small></td>
<td>${escapeHtml(r.dimension)}</td><td>${escapeHtml(r.severity)}</td><td>${num(r.checked)}</td><td>${num(r.failed)}</td>
<td>${pct(r.rate, 3)}${r.exceeded ? ' ⚠' : ''}</td><td>${pct(r.threshold, 3)}</td>${delta(r)}<td><code>${escapeHtml(r.version)}</code></td><td>${num(r.durationMs)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function samples(rules: readonly ReportRule[]): string {
  return rules
    .filter((r) => r.samples.length > 0)
    .map((r) => {
      const fields = [...new Set(r.samples.flatMap((s) => Object.keys(s.record)))];
      return `<details><summary><b>${escapeHtml(r.id)}</b> — ${num(r.failed)} failing, first ${r.samples.length}</summary>
<table class="samples"><thead><tr><th>key</th><th>division</th>${fields.map((f) => `<th>${escapeHtml(f)}</th>`).join('')}<th>detail</th></tr></thead><tbody>${r.samples
        .map(
          (s) =>
            `<tr><td>${escapeHtml(s.key)}</td><td>${escapeHtml(s.divisionCode ?? '')}</td>${fields.map((f) => `<td>${escapeHtml(s.record[f] ?? '')}</td>`).join('')}<td>${escapeHtml(s.detail ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table></details>`;
    })
    .join('\n');
}

function divisionTable(rows: readonly DivisionCount[], total: number): string {
  if (rows.length === 0) return '<p>No failing record has a division.</p>';
  return `<table class="divisions"><thead><tr><th>code</th><th>name</th><th>failures</th><th>share</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.code)}</td><td>${escapeHtml(r.name ?? '')}</td><td>${num(r.failures)}</td><td>${pct(total > 0 ? r.failures / total : null, 1)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1180px;color:#111827;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
table.scores td{text-align:center;min-width:92px}table.rules td:not(:first-child),table.divisions td{white-space:nowrap}td.na{color:#9ca3af;text-align:center}
tr.exceeded.error td{background:#fef2f2}tr.exceeded.warn td{background:#fffbeb}
td.up{color:#b91c1c}td.down{color:#15803d}small{color:#4b5563}small.src{color:#6b7280}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600}
.passed{background:#dcfce7;color:#166534}.failed{background:#fee2e2;color:#991b1b}.error{background:#fee2e2}
.row{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.legend span{display:inline-block;width:14px;height:10px;border:1px solid #9ca3af;margin:0 4px 0 10px}
details{margin:6px 0}summary{cursor:pointer}svg text{font-family:inherit}`;

export function renderHtml(
  data: ReportData,
  outlines: readonly { code: string; name: string; path: string }[],
): string {
  const run = data.run;
  const scope = [
    run.registryFilter ? `registry ${run.registryFilter}` : null,
    run.ruleFilter ? `rules ${run.ruleFilter.join(', ')}` : null,
    run.divisionFilter ? `division ${run.divisionFilter}` : null,
  ].filter(Boolean);
  const exceeded = data.rules.filter((r) => r.exceeded);
  const located = data.byProvince.reduce((n, r) => n + r.failures, 0);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>govbase data quality — run ${run.id}</title><style>${CSS}</style></head>
<body>
<h1>Data quality report — run #${run.id} <span class="badge ${escapeHtml(run.status)}">${escapeHtml(run.status)}</span></h1>
<p>${escapeHtml(run.startedAt)} → ${escapeHtml(run.finishedAt ?? '')} · reference date ${escapeHtml(run.asOf)} · ${escapeHtml(run.database)} ·
${scope.length > 0 ? escapeHtml(scope.join(' · ')) : 'all registries'} · ${num(run.rules)} rules · ${num(run.rowsChecked)} record checks ·
${num(run.failures)} failures · triggered by ${escapeHtml(run.triggeredBy)}</p>
<p>Dimensions follow GB/T 36344-2018 (normative, completeness, accuracy, consistency, timeliness, accessibility) plus record uniqueness.
A score is passed / checked over the rules of the run. Values in details and samples are masked per the field catalogue.</p>
${exceeded.length > 0 ? `<p><b>Over threshold:</b> ${exceeded.map((r) => `${escapeHtml(r.id)} (${r.severity}, ${pct(r.rate, 3)} &gt; ${pct(r.threshold, 3)})`).join('; ')}</p>` : '<p>No rule exceeded its threshold.</p>'}

<h2>Scores by registry and dimension</h2>
${scoreTable(data)}

<h2>Trend against earlier runs of the same scope</h2>
${trendSvg(data.trend)}

<h2>Failures per rule</h2>
${ruleBarsSvg(data.rules)}
${rulesTable(data.rules)}

<h2>Failures by division</h2>
<div class="row"><div>${provinceMapSvg(outlines, data.byProvince)}</div>
<div><h3>Provinces</h3>${divisionTable(data.byProvince, located)}</div>
<div><h3>Counties with most failures</h3>${divisionTable(data.topCounties, located)}</div></div>

<h2>Samples of failing records</h2>
${samples(data.rules) || '<p>No failing records.</p>'}
<p><small>Generated ${escapeHtml(data.generatedAt)} by govbase (src/quality).</small></p>
</body></html>
`;
}

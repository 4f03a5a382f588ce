import { h, replace, encode, table, formatTime, formatBytes, tagList, shapeText, badge } from '../dom.js';
import * as api from '../api.js';
import { lineChart } from '../charts.js';
import { versionQualitySection } from '../quality.js';

/** Windows offered, each with the step that keeps a chart near a hundred points. 15 min reads the per-second data, longer ones the per-minute. */
const windows = [
  { window: '15m', step: '15s', label: '15 min' },
  { window: '1h', step: '1m', label: '1 h' },
  { window: '6h', step: '5m', label: '6 h' },
];
const refreshMs = 5000;
const qualityRefreshMs = 30000;

/** The series' error counters by outcome class: whose fault a failed request was (docs/feedback-loops.md). Unknown counters keep their name. */
const errorClasses = { errors: 'server errors', clientErrors: 'client errors', rejected: 'rejected' };

/** A version: signature, tags, download, and live charts of its traffic (optionally overlaid with another version's). */
export async function versionPage(ctx, name, number) {
  const base = `/v1/models/${encode(name)}`;
  const [version, model] = await Promise.all([api.get(`${base}/versions/${number}`), api.get(base)]);

  const windowSelect = h('select', { id: 'chart-window', name: 'window' }, windows.map((w, i) => h('option', { value: i }, w.label)));
  const compareSelect = h('select', { id: 'chart-compare', name: 'compare' },
    h('option', { value: '' }, 'none'),
    model.versions.filter(v => v.version !== number).reverse().map(v => h('option', { value: v.version }, `v${v.version}`)));
  const updated = h('p', { id: 'chart-updated', class: 'hint', 'aria-live': 'off' });
  const summary = h('p', { id: 'chart-summary', 'aria-live': 'polite' });
  const canvases = {
    rate: h('canvas', { id: 'chart-rate', role: 'img', 'aria-label': 'Requests per second over time' }),
    errors: h('canvas', { id: 'chart-errors', role: 'img', 'aria-label': 'Server-error, client-error and rejected rates over time' }),
    latency: h('canvas', { id: 'chart-latency', role: 'img', 'aria-label': 'p50 and p99 server latency over time' }),
  };

  const isShadow = model.aliases.some(a => a.name === 'shadow' && a.version === number);
  const quality = versionQualitySection(ctx, base, number, isShadow);

  replace(ctx.main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / ', h('a', { href: `#/models/${encode(name)}` }, name), ` / v${number}`),
    h('h1', null, `${name} v${number}`, version.archived ? [' ', badge('archived')] : null),
    h('section', { 'aria-labelledby': 'about-title' },
      h('h2', { id: 'about-title' }, 'About'),
      h('dl', { class: 'facts' },
        h('dt', null, 'Created'), h('dd', null, `${formatTime(version.createdAt)} by ${version.createdBy ?? 'unknown'}`),
        h('dt', null, 'Description'), h('dd', null, version.description ?? '–'),
        h('dt', null, 'sha256'), h('dd', null, h('code', null, version.sha256)),
        h('dt', null, 'Size'), h('dd', null, formatBytes(version.sizeBytes)),
        h('dt', null, 'Tags'), h('dd', null, tagList(version.tags)),
        h('dt', null, 'Artifact'), h('dd', null, h('a', { id: 'download', href: `${base}/versions/${number}/artifact`, download: `${name}-v${number}.onnx` }, 'Download the ONNX file')))),
    h('section', { 'aria-labelledby': 'signature-title' },
      h('h2', { id: 'signature-title' }, 'Signature'),
      table('Inputs', ['Name', 'Datatype', 'Shape'], version.signature.inputs.map(t => [t.name, t.datatype, shapeText(t.shape)]), { id: 'inputs' }),
      table('Outputs', ['Name', 'Datatype', 'Shape'], version.signature.outputs.map(t => [t.name, t.datatype, shapeText(t.shape)]), { id: 'outputs' })),
    h('section', { 'aria-labelledby': 'traffic-title' },
      h('h2', { id: 'traffic-title' }, 'Traffic'),
      h('div', { class: 'filters' },
        h('div', { class: 'field' }, h('label', { for: 'chart-window' }, 'Window'), windowSelect),
        h('div', { class: 'field' }, h('label', { for: 'chart-compare' }, 'Compare with'), compareSelect)),
      summary,
      h('div', { class: 'charts' },
        h('figure', null, h('figcaption', null, 'Requests per second'), h('div', { class: 'chart' }, canvases.rate)),
        h('figure', null, h('figcaption', null, 'Error rate by outcome class'), h('div', { class: 'chart' }, canvases.errors)),
        h('figure', null, h('figcaption', null, 'Server latency (ms)'), h('div', { class: 'chart' }, canvases.latency))),
      updated),
    quality.section);

  const charts = {
    rate: lineChart(canvases.rate, { datasets: [], yTitle: 'requests/s' }),
    errors: lineChart(canvases.errors, { datasets: [], yTitle: 'fraction of requests' }),
    latency: lineChart(canvases.latency, { datasets: [], yTitle: 'ms' }),
  };
  ctx.onLeave(() => Object.values(charts).forEach(c => c.destroy()));

  const series = async v => {
    const w = windows[Number(windowSelect.value)];
    return api.get(`${base}/versions/${v}/stats/series?window=${w.window}&step=${w.step}`);
  };
  const points = (s, pick) => s.points.map(p => ({ x: new Date(p.at).getTime(), y: pick(p) }));

  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const compared = compareSelect.value ? Number(compareSelect.value) : null;
      const all = await Promise.all([number, ...(compared ? [compared] : [])].map(async v => ({ v, s: await series(v) })));
      charts.rate.update(all.map(({ v, s }) => ({ label: `v${v}`, points: points(s, p => p.requestsPerSecond) })));
      // One line per outcome class (server errors: the version's own; client errors: the callers'; rejected: back-pressure), as a share of all requests.
      charts.errors.update(all.flatMap(({ v, s }) => s.counters.filter(c => c !== 'requests').map(counter => ({
        label: `v${v} ${errorClasses[counter] ?? counter}`,
        points: points(s, p => (p.counts.requests ? (p.counts[counter] ?? 0) / p.counts.requests : null)),
      }))));
      charts.latency.update(all.flatMap(({ v, s }) => [
        { label: `v${v} p50`, points: points(s, p => p.p50Ms) },
        { label: `v${v} p99`, points: points(s, p => p.p99Ms) },
      ]));
      const mine = all[0].s;
      const total = mine.points.reduce((sum, p) => sum + p.counts.requests, 0);
      const sum = counter => mine.points.reduce((n, p) => n + (p.counts[counter] ?? 0), 0);
      const errors = sum('errors');
      summary.textContent = `v${number} over ${mine.window}: ${total} requests, ${errors} server errors${total ? ` (${(100 * errors / total).toFixed(2)} %)` : ''}, `
        + `${sum('clientErrors')} client errors, ${sum('rejected')} rejected.`;
      summary.dataset.requests = String(total);
      updated.textContent = `Updated ${formatTime(new Date())}; refreshes every ${refreshMs / 1000} s.`;
    } catch (error) {
      updated.textContent = `Could not load the statistics: ${error.message}`;
    } finally {
      busy = false;
    }
  };
  windowSelect.addEventListener('change', refresh);
  compareSelect.addEventListener('change', refresh);
  await Promise.all([refresh(), quality.load().catch(error => { quality.section.append(h('p', { class: 'error' }, `Could not load the quality reports: ${error.message}`)); })]);
  ctx.every(refreshMs, refresh);
  // The reports read the payload log files: a slower refresh than the traffic charts is enough.
  ctx.every(qualityRefreshMs, () => quality.load().catch(() => {}));
}

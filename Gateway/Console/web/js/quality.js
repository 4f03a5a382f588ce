import { h, replace, encode, table, badge } from './dom.js';
import * as api from './api.js';
import { barChart } from './charts.js';

// The quality loop's three reports (docs/quality.md) as panels: online quality against the baseline, input drift (PSI per feature)
// and a shadow version against production. Each says in words what a chart shows, and what to turn on when there is nothing to show.

/** PSI bands of docs/quality.md: below 0.1 stable, above 0.2 a shift. */
export function psiWord(psi) {
  if (psi === null || psi === undefined) return 'no verdict';
  return psi > 0.2 ? 'shifted' : psi >= 0.1 ? 'moderate' : 'stable';
}
const psiKind = { shifted: 'failed', moderate: 'inconclusive', stable: 'passed' };

const percent = value => (value === null || value === undefined ? '–' : `${(100 * value).toFixed(1)} %`);
const number = value => (value === null || value === undefined ? '–' : Number(value).toFixed(3));
const ms = value => (value === null || value === undefined ? '–' : `${Number(value).toFixed(2)} ms`);
const signed = (value, format) => (value === null || value === undefined || Number.isNaN(value) ? '–' : `${value > 0 ? '+' : value < 0 ? '−' : '±'}${format(Math.abs(value))}`);

/** A report, or the problem the server gave instead (404, 409: say why), without throwing. */
async function report(base, version, kind, window) {
  try {
    return { value: await api.get(`${base}/versions/${version}/${kind}?window=${encode(window)}`) };
  } catch (error) {
    return { problem: error instanceof api.ApiError ? error.problem.detail ?? error.message : error.message, status: error.status };
  }
}

/** What to enable, as an empty state: the setting's JSON, where it goes, and who may set it. */
function enable(text, json) {
  return h('div', { class: 'empty' }, h('p', null, text), json ? h('pre', null, h('code', null, json)) : null,
    h('p', { class: 'hint' }, 'Serving settings are changed on the model page (admin) or with PUT …/serving; see docs/quality.md.'));
}

const payloadLogJson = '"payloadLog": { "enabled": true, "sampleRate": 0.1 }';
const qualityJson = '"quality": { "task": "classification", "output": "Score.output", "labels": ["a", "b"] }';

/** The quality panel's content for one version: coverage and accuracy (or MAE/RMSE) beside the baseline's. */
export function qualityContent(result, settings, base) {
  if (!settings.payloadLog?.enabled) {
    return enable('No quality figures: this model\'s payload log is off. Turn it on (and add quality settings), then send ground truth to POST ' + base + '/feedback.', `${payloadLogJson},\n${qualityJson}`);
  }
  if (result.status === 409 || !settings.quality) {
    return enable('No quality figures: this model has no quality settings. Add them so the registry can judge logged predictions against ground truth:', qualityJson);
  }
  if (result.problem) return h('p', { class: 'error' }, result.problem);
  const r = result.value;
  const f = r.figures;
  if (f.logged === 0) return enable(`No logged request of v${r.version} in the last ${r.window}: send traffic (the payload log samples ${percent(settings.payloadLog.sampleRate ?? 1)} of it).`);
  if (f.labelled === 0) return enable(`${f.logged} requests logged in the last ${r.window}, none labelled yet: send ground truth by request id to POST ${base}/feedback.`);
  const b = r.baseline;
  const regression = r.task === 'regression';
  const rows = [['Logged requests', f.logged, b ? b.logged : '–', ''], ['Labelled', f.labelled, b ? b.labelled : '–', ''],
    ['Coverage', percent(f.coverage), b ? percent(b.coverage) : '–', '']];
  // Accuracy: higher is better; MAE and RMSE: lower is better. The difference is written out, and says which way is better.
  const compare = (label, mine, theirs, format, higherIsBetter) => {
    const diff = mine !== null && theirs !== null && theirs !== undefined ? mine - theirs : null;
    const verdict = diff === null || diff === 0 ? '' : (diff > 0) === higherIsBetter ? ' (better)' : ' (worse)';
    rows.push([label, format(mine), b ? format(theirs) : '–', diff === null ? '–' : `${signed(diff, format)}${verdict}`]);
  };
  if (regression) {
    compare('MAE', f.mae, b?.mae, number, false);
    compare('RMSE', f.rmse, b?.rmse, number, false);
  } else {
    compare('Accuracy', f.accuracy, b?.accuracy, percent, true);
  }
  const headline = regression
    ? `v${r.version}: MAE ${number(f.mae)}, RMSE ${number(f.rmse)} over ${f.labelled} labelled requests (${percent(f.coverage)} coverage)`
    : `v${r.version}: accuracy ${percent(f.accuracy)} over ${f.labelled} labelled requests (${percent(f.coverage)} coverage)`;
  const baseline = r.baselineVersion ? `; baseline v${r.baselineVersion}: ${regression ? `MAE ${number(b?.mae)}` : `accuracy ${percent(b?.accuracy)}`}` : '; no baseline (no earlier production version)';
  return [h('p', { class: 'quality-summary', dataset: { accuracy: f.accuracy ?? '', mae: f.mae ?? '' } }, `${headline}${baseline}, last ${r.window}.`),
    table(null, ['Figure', `v${r.version}`, r.baselineVersion ? `baseline v${r.baselineVersion}` : 'baseline', 'Difference'], rows, { class: 'quality-table' })];
}

/** The drift panel's content: a bar per feature (largest PSI first) with its word, or what is missing for a verdict. */
export function driftContent(result, settings, charts, id) {
  if (!settings.payloadLog?.enabled) {
    return enable('No drift report: this model\'s payload log is off. Drift compares logged inputs with the version\'s first logged requests; turn the log on:', payloadLogJson);
  }
  if (result.problem) return h('p', { class: 'error' }, result.problem);
  const r = result.value;
  if (r.maxPsi === null || r.maxPsi === undefined) {
    return enable(`No verdict yet: the reference has ${r.referenceRecords} logged requests (its first ones; complete at the registry's Quality:DriftReferenceRecords) and the last ${r.window} holds ${r.liveRecords} after it.`);
  }
  const top = r.features.slice(0, 10);
  const canvas = h('canvas', { id, role: 'img', 'aria-label': `PSI of the ${top.length} most drifting input features; the table below gives each value and verdict` });
  queueMicrotask(() => charts.push(barChart(canvas, {
    labels: top.map(f => f.feature),
    values: top.map(f => f.psi),
    // Colour repeats the word (and the table says it): shifted, moderate, stable.
    colors: top.map(f => ({ shifted: '#b91c1c', moderate: '#a16207', stable: '#15803d' })[psiWord(f.psi)]),
    label: 'PSI',
    thresholds: [{ value: 0.1, label: '0.1 moderate' }, { value: 0.2, label: '0.2 shift' }],
  })));
  return [
    h('p', { class: 'drift-summary', dataset: { maxPsi: r.maxPsi } },
      `Largest PSI ${number(r.maxPsi)} (${psiWord(r.maxPsi)}) over ${r.features.length} features: ${r.liveRecords} requests in the last ${r.window} against the first ${r.referenceRecords} logged (${r.referenceSource}).`),
    h('div', { class: 'chart' }, canvas),
    table('Most drifting features (PSI below 0.1 stable, above 0.2 a shift)', ['Feature', 'PSI', 'Verdict'],
      top.map(f => [f.feature, number(f.psi), badge(psiWord(f.psi), psiKind[psiWord(f.psi)])]), { class: 'drift-table' }),
  ];
}

/** The shadow panel's content: agreement, output differences, errors, and latency beside production's. */
export function shadowContent(result, settings, isShadow) {
  if (!isShadow && (result.problem || result.value?.compared === 0)) {
    return enable('Not a shadow version: point the shadow alias at a version (its weight is the share of production requests copied to it) with the payload log on, and this panel compares its answers with production\'s.',
      settings.payloadLog?.enabled ? null : payloadLogJson);
  }
  if (!settings.payloadLog?.enabled) return enable('No shadow comparison: copies are made only while the payload log is on.', payloadLogJson);
  if (result.problem) return h('p', { class: 'error' }, result.problem);
  const r = result.value;
  if (r.compared === 0) return enable(`Nothing compared in the last ${r.window} yet: production has to answer requests by model name for copies to reach v${r.version}.`);
  return [
    h('p', { class: 'shadow-summary', dataset: { agreement: r.agreement ?? '' } },
      `v${r.version} against production v${r.productionVersion} over ${r.compared} copied requests: agreement ${r.agreement === null ? '– (needs classification quality settings)' : percent(r.agreement)}, `
      + `${r.shadowErrors} shadow errors, last ${r.window}.`),
    table(null, ['Figure', `shadow v${r.version}`, `production v${r.productionVersion}`], [
      ['Agreement (same class)', percent(r.agreement), ''],
      ['Output difference (mean / max)', `${number(r.meanAbsDiff)} / ${number(r.maxAbsDiff)}`, ''],
      ['Errors', r.shadowErrors, ''],
      ['p50 latency', ms(r.shadowLatency.p50Ms), ms(r.productionLatency.p50Ms)],
      ['p99 latency', ms(r.shadowLatency.p99Ms), ms(r.productionLatency.p99Ms)],
    ], { class: 'shadow-table' }),
  ];
}

export const qualityWindows = ['15m', '1h', '6h', '24h'];

/**
 * The three panels of one version, with a window selector; redrawn on a change of window and every refresh.
 * Returns the section and a function that (re)loads it.
 */
export function versionQualitySection(ctx, base, version, isShadow) {
  const windowSelect = h('select', { id: 'quality-window', name: 'qualityWindow' }, qualityWindows.map(w => h('option', { value: w, selected: w === '1h' }, w)));
  const panels = {
    quality: h('div', { id: 'quality-panel', class: 'panel', 'aria-live': 'polite' }),
    drift: h('div', { id: 'drift-panel', class: 'panel', 'aria-live': 'polite' }),
    shadow: h('div', { id: 'shadow-panel', class: 'panel', 'aria-live': 'polite' }),
  };
  const charts = [];
  ctx.onLeave(() => charts.splice(0).forEach(c => c.destroy()));
  const section = h('section', { id: 'quality-section', 'aria-labelledby': 'quality-title' },
    h('h2', { id: 'quality-title' }, 'Quality, drift and shadow'),
    h('div', { class: 'filters' }, h('div', { class: 'field' }, h('label', { for: 'quality-window' }, 'Window'), windowSelect)),
    h('div', { class: 'panels' },
      h('article', { 'aria-labelledby': 'quality-panel-title' }, h('h3', { id: 'quality-panel-title' }, 'Online quality'), panels.quality),
      h('article', { 'aria-labelledby': 'drift-panel-title' }, h('h3', { id: 'drift-panel-title' }, 'Input drift'), panels.drift),
      h('article', { 'aria-labelledby': 'shadow-panel-title' }, h('h3', { id: 'shadow-panel-title' }, 'Shadow against production'), panels.shadow)));
  const load = async () => {
    const window = windowSelect.value;
    const [settings, quality, drift, shadow] = await Promise.all([api.get(`${base}/serving`),
      report(base, version, 'quality', window), report(base, version, 'drift', window), report(base, version, 'shadow', window)]);
    charts.splice(0).forEach(c => c.destroy());
    replace(panels.quality, qualityContent(quality, settings, base));
    replace(panels.drift, driftContent(drift, settings, charts, 'drift-chart'));
    replace(panels.shadow, shadowContent(shadow, settings, isShadow));
  };
  windowSelect.addEventListener('change', () => load().catch(() => {}));
  return { section, load };
}

/** The model page's summary: one row per aliased version (production, canary, shadow) with its quality, drift and shadow figures. */
export async function modelQualityRows(base, model, settings, window) {
  const aliased = model.aliases.filter(a => ['production', 'canary', 'shadow'].includes(a.name));
  return Promise.all(aliased.map(async a => {
    const [quality, drift, shadow] = await Promise.all([report(base, a.version, 'quality', window), report(base, a.version, 'drift', window),
      a.name === 'shadow' ? report(base, a.version, 'shadow', window) : Promise.resolve(null)]);
    const q = quality.value;
    const accuracy = !q ? (settings.quality ? 'no data' : 'no quality settings')
      : q.task === 'regression' ? `MAE ${number(q.figures.mae)} (baseline ${number(q.baseline?.mae)})`
      : `${percent(q.figures.accuracy)} (baseline ${q.baselineVersion ? `v${q.baselineVersion} ${percent(q.baseline?.accuracy)}` : 'none'}), coverage ${percent(q.figures.coverage)}`;
    const d = drift.value;
    const psi = d && d.maxPsi !== null ? [`${number(d.maxPsi)} `, badge(psiWord(d.maxPsi), psiKind[psiWord(d.maxPsi)]), d.features[0] ? ` (${d.features[0].feature})` : ''] : 'no verdict yet';
    const s = shadow?.value;
    return [a.name, h('a', { href: `#/models/${encode(model.name)}/versions/${a.version}` }, `v${a.version}`), accuracy, psi,
      shadow === null ? '–' : s && s.compared > 0 ? `agreement ${percent(s.agreement)}, p99 ${ms(s.shadowLatency.p99Ms)} vs ${ms(s.productionLatency.p99Ms)}` : 'nothing compared yet'];
  }));
}

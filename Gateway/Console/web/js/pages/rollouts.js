import { h, replace, encode, table, formatTime, badge } from '../dom.js';
import * as api from '../api.js';
import { lineChart } from '../charts.js';
import { actionForm, field } from '../forms.js';

const decisionWords = {
  promote: 'passed', advance: 'passed', pass: 'passed', passed: 'passed', ok: 'passed',
  rollback: 'failed', fail: 'failed', failed: 'failed', breach: 'failed',
  wait: 'inconclusive', inconclusive: 'inconclusive', skip: 'inconclusive', skipped: 'inconclusive',
};

/** The word an analysis decision stands for: passed, failed or inconclusive (colour only repeats it). */
export function decisionText(decision) {
  return decisionWords[decision] ?? decision;
}

const first = (entry, names) => names.map(n => entry?.[n]).find(v => v !== undefined && v !== null);

/**
 * The quality gates an analysis carries, whatever their exact shape: an array of entries or an object keyed by gate name, each with a
 * name, a result (pass/fail/inconclusive, or passed: true/false), and the measured value against its threshold when given.
 * Returns [{name, result, text}] (empty when the analysis has no gates).
 */
export function gateEntries(analysis) {
  const gates = analysis?.gates;
  if (!gates || typeof gates !== 'object') return [];
  const entries = Array.isArray(gates) ? gates.map(g => [first(g, ['name', 'gate', 'kind', 'metric']), g]) : Object.entries(gates);
  return entries.map(([name, g]) => {
    const raw = typeof g === 'string' ? g
      : first(g, ['result', 'status', 'outcome', 'decision', 'verdict']) ?? (g?.passed === true ? 'pass' : g?.passed === false ? 'fail' : 'inconclusive');
    const result = decisionText(String(raw).toLowerCase());
    const value = typeof g === 'object' ? first(g, ['value', 'measured', 'actual']) : undefined;
    const threshold = typeof g === 'object' ? first(g, ['threshold', 'limit', 'max', 'min']) : undefined;
    const why = typeof g === 'object' ? first(g, ['reason', 'detail', 'message']) : undefined;
    const measured = value !== undefined ? ` ${value}${threshold !== undefined ? ` against ${threshold}` : ''}` : '';
    return { name: String(name ?? 'gate'), result, text: `${name ?? 'gate'}: ${result}${measured}${why ? ` (${why})` : ''}` };
  });
}

/** The quality gates a rollout was started with (issue 18's "gates" object), named as the API names them; nothing when none. */
function gateSettings(gates) {
  if (!gates || typeof gates !== 'object') return '';
  const set = Object.entries(gates).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object');
  return set.length ? ` Quality gates: ${set.map(([k, v]) => `${k} ${v}`).join(', ')}.` : '';
}

function gatesCell(analysis) {
  const gates = gateEntries(analysis);
  return gates.length === 0 ? '–' : h('ul', { class: 'gates' }, gates.map(g => h('li', null, badge(g.result), ' ', g.text)));
}

/** Rollouts of every model: running ones with their steps, weight, analyses (charted against the thresholds) and abort; then past ones. */
export async function rolloutsPage(ctx) {
  const running = h('section', { id: 'running-rollouts', 'aria-labelledby': 'running-title' });
  const past = h('section', { id: 'past-rollouts', 'aria-labelledby': 'past-title' });
  replace(ctx.main, h('h1', null, 'Rollouts'), running, past);
  const charts = [];
  ctx.onLeave(() => charts.splice(0).forEach(c => c.destroy()));
  let shownRunning = '';

  const load = async () => {
    const models = await api.get('/v1/models?pageSize=200');
    const lists = await Promise.all(models.items.map(m => api.get(`/v1/models/${encode(m.name)}/rollouts`).catch(() => [])));
    const all = lists.flat().sort((a, b) => new Date(b.createdAt) - new Date(a.createdAt));
    const live = all.filter(r => r.status === 'running');
    // Redraw the running panels only when something changed, so a form being filled or a focused button is not swept away.
    const fingerprint = JSON.stringify(live.map(r => [r.id, r.currentStep, r.currentWeight, r.analyses.length]));
    // ...and never while a confirmation is open: the click that confirms must land on the button the user saw.
    // ...and never while a reason is being written (a redraw would wipe it).
    const editing = [...running.querySelectorAll('textarea')].some(t => t.value || t === document.activeElement);
    if (fingerprint !== shownRunning && !running.querySelector('.confirm:not([hidden])') && !editing) {
      shownRunning = fingerprint;
      charts.splice(0).forEach(c => c.destroy());
      replace(running, h('h2', { id: 'running-title' }, 'Running'),
        live.length === 0 ? h('p', null, 'No rollout is running.') : live.map(r => runningPanel(ctx, r, charts, load)));
    }
    const done = all.filter(r => r.status !== 'running').slice(0, 50);
    replace(past, h('h2', { id: 'past-title' }, 'Past'), done.length === 0 ? h('p', null, 'None yet.') : table(null,
      ['Started', 'Model', 'Kind', 'Version', 'Outcome', 'Finished', 'Why'],
      done.map(r => [formatTime(r.createdAt), h('a', { href: `#/models/${encode(r.model)}` }, r.model), r.kind,
        h('a', { href: `#/models/${encode(r.model)}/versions/${r.version}` }, `v${r.version}`),
        badge(r.status), formatTime(r.finishedAt), r.reason ?? '']), { id: 'past-rollouts-table' }));
  };
  await load();
  ctx.every(3000, () => load().catch(() => {}));
}

function runningPanel(ctx, r, charts, reload) {
  const errorCanvas = h('canvas', { role: 'img', 'aria-label': `Error rate measured at each analysis of ${r.model} v${r.version}, against the threshold ${r.maxErrorRate}` });
  const latencyCanvas = h('canvas', { role: 'img', 'aria-label': `p99 latency measured at each analysis, against the threshold ${r.maxP99Ms} ms` });
  const panel = h('article', { class: 'rollout', id: `rollout-${r.id}`, dataset: { model: r.model, kind: r.kind, status: r.status } },
    h('h3', null, `${r.model}: v${r.version}`, r.baselineVersion ? ` replacing v${r.baselineVersion}` : '', ' ', badge(r.status), r.kind === 'guard' ? ' (guard)' : ''),
    h('p', null, `Started ${formatTime(r.createdAt)} by ${r.actor}${r.startReason ? ` (“${r.startReason}”)` : ''}; deadline ${r.deadline}; next analysis ${formatTime(r.nextAnalysisAt)}.`),
    r.kind === 'rollout' ? h('ol', { class: 'steps', 'aria-label': 'Steps' }, r.steps.map((weight, i) =>
      h('li', { class: i < r.currentStep ? 'step-done' : i === r.currentStep ? 'step-current' : 'step-next', 'aria-current': i === r.currentStep ? 'step' : null },
        `${weight} %`, i < r.currentStep ? ' (done)' : i === r.currentStep ? ' (current)' : ''))) : null,
    h('p', { class: 'weight' }, 'Current canary weight: ', h('strong', { class: 'current-weight' }, r.currentWeight === null || r.currentWeight === undefined ? '–' : `${r.currentWeight} %`)),
    h('p', null, `Thresholds: error rate ≤ ${r.maxErrorRate}, p99 ≤ ${r.maxP99Ms} ms, at least ${r.minRequests} requests per analysis.`,
      gateSettings(r.gates)),
    r.analyses.length ? h('div', { class: 'charts' },
      h('figure', null, h('figcaption', null, 'Error rate per analysis'), h('div', { class: 'chart' }, errorCanvas)),
      h('figure', null, h('figcaption', null, 'p99 per analysis (ms)'), h('div', { class: 'chart' }, latencyCanvas))) : h('p', null, 'No analysis yet.'),
    r.analyses.length ? table('Analyses', ['When', 'Step', 'Weight', 'Requests', 'Error rate (max)', 'p99 ms (max)', 'Production error rate',
      ...(r.analyses.some(a => gateEntries(a).length) ? ['Gates'] : []), 'Result', 'Why'],
      [...r.analyses].reverse().map(a => [formatTime(a.at), a.step + 1, a.weight ?? '–', a.requests,
        `${a.errorRate} (≤ ${r.maxErrorRate})`, `${a.p99Ms ?? '–'} (≤ ${r.maxP99Ms})`, a.productionErrorRate,
        ...(r.analyses.some(x => gateEntries(x).length) ? [gatesCell(a)] : []),
        badge(decisionText(a.decision)), a.reason])) : null,
    ctx.allows('admin') ? actionForm({
      id: `abort-${r.id}`,
      title: 'Abort this rollout',
      fields: [field('Reason (required, recorded with the rollout)', h('textarea', { id: `abort-${r.id}-reason`, name: 'reason', rows: 2, 'aria-required': 'true' }))],
      required: ['reason'],
      describe: () => `Abort the rollout of ${r.model} v${r.version}? The canary alias is removed; production is untouched.`,
      send: v => api.del(`/v1/models/${encode(r.model)}/rollouts/${encode(r.id)}?reason=${encode(v.reason.trim())}`),
      done: reload,
    }) : null);
  if (r.analyses.length) {
    const at = a => new Date(a.at).getTime();
    const threshold = (value, label) => ({ label, points: [{ x: at(r.analyses[0]), y: value }, { x: Math.max(at(r.analyses.at(-1)), Date.now()), y: value }], dash: [4, 4], color: '#b91c1c', pointRadius: 0 });
    queueMicrotask(() => {
      charts.push(lineChart(errorCanvas, { datasets: [{ label: 'measured', points: r.analyses.map(a => ({ x: at(a), y: a.errorRate })) }, threshold(r.maxErrorRate, 'max allowed')], yTitle: 'error rate' }));
      charts.push(lineChart(latencyCanvas, { datasets: [{ label: 'measured', points: r.analyses.map(a => ({ x: at(a), y: a.p99Ms })) }, threshold(r.maxP99Ms, 'max allowed')], yTitle: 'ms' }));
    });
  }
  return panel;
}

import { h, replace, encode, table, formatTime, badge } from '../dom.js';
import * as api from '../api.js';
import { lineChart } from '../charts.js';
import { actionForm } from '../forms.js';

const decisionWords = { promote: 'passed', advance: 'passed', pass: 'passed', rollback: 'failed', fail: 'failed', wait: 'inconclusive', inconclusive: 'inconclusive' };

/** The word an analysis decision stands for: passed, failed or inconclusive (colour only repeats it). */
export function decisionText(decision) {
  return decisionWords[decision] ?? decision;
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
    if (fingerprint !== shownRunning && !running.querySelector('.confirm:not([hidden])')) {
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
    h('p', null, `Started ${formatTime(r.createdAt)} by ${r.actor}; deadline ${r.deadline}; next analysis ${formatTime(r.nextAnalysisAt)}.`),
    r.kind === 'rollout' ? h('ol', { class: 'steps', 'aria-label': 'Steps' }, r.steps.map((weight, i) =>
      h('li', { class: i < r.currentStep ? 'step-done' : i === r.currentStep ? 'step-current' : 'step-next', 'aria-current': i === r.currentStep ? 'step' : null },
        `${weight} %`, i < r.currentStep ? ' (done)' : i === r.currentStep ? ' (current)' : ''))) : null,
    h('p', { class: 'weight' }, 'Current canary weight: ', h('strong', { class: 'current-weight' }, r.currentWeight === null || r.currentWeight === undefined ? '–' : `${r.currentWeight} %`)),
    h('p', null, `Thresholds: error rate ≤ ${r.maxErrorRate}, p99 ≤ ${r.maxP99Ms} ms, at least ${r.minRequests} requests per analysis.`),
    r.analyses.length ? h('div', { class: 'charts' },
      h('figure', null, h('figcaption', null, 'Error rate per analysis'), h('div', { class: 'chart' }, errorCanvas)),
      h('figure', null, h('figcaption', null, 'p99 per analysis (ms)'), h('div', { class: 'chart' }, latencyCanvas))) : h('p', null, 'No analysis yet.'),
    r.analyses.length ? table('Analyses', ['When', 'Step', 'Weight', 'Requests', 'Error rate (max)', 'p99 ms (max)', 'Production error rate', 'Result', 'Why'],
      [...r.analyses].reverse().map(a => [formatTime(a.at), a.step + 1, a.weight ?? '–', a.requests,
        `${a.errorRate} (≤ ${r.maxErrorRate})`, `${a.p99Ms ?? '–'} (≤ ${r.maxP99Ms})`, a.productionErrorRate,
        badge(decisionText(a.decision)), a.reason])) : null,
    ctx.allows('admin') ? actionForm({
      id: `abort-${r.id}`,
      title: 'Abort this rollout',
      fields: [],
      describe: () => `Abort the rollout of ${r.model} v${r.version}? The canary alias is removed; production is untouched.`,
      send: () => api.del(`/v1/models/${encode(r.model)}/rollouts/${encode(r.id)}`),
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

import { h, replace, table, formatTime, formatDuration, badge, encode } from '../dom.js';
import * as api from '../api.js';
import { actionForm } from '../forms.js';

/** Batch jobs, newest first, with live progress (done / failed / total, rows/s, ETA), cancel and results download. */
export async function batchPage(ctx) {
  const list = h('div', { id: 'jobs', 'aria-live': 'off' });
  replace(ctx.main, h('h1', null, 'Batch jobs'),
    h('p', { class: 'hint' }, 'Submit jobs with mlp batch submit or POST /v1/batch/jobs; this page follows them.'), list);
  let shown = '';
  const load = async () => {
    const page = await api.get('/v1/batch/jobs?pageSize=100');
    // Rebuilt only when a figure changed, so a confirmation being read is not swept away by the refresh.
    const fingerprint = JSON.stringify(page.items.map(j => [j.id, j.status, j.rowsDone, j.rowsFailed]));
    if (fingerprint === shown || list.querySelector('.confirm:not([hidden])')) return;
    shown = fingerprint;
    replace(list, page.items.length === 0 ? h('p', null, 'No batch job yet.') : table(`${page.count} job(s)`,
      ['Job', 'Model', 'Status', 'Progress', 'Rows/s', 'ETA', 'Submitted', ''],
      page.items.map(job => row(ctx, job, load)), { id: 'jobs-table' }));
  };
  await load();
  ctx.every(1500, () => load().catch(() => {}));
}

function row(ctx, job, reload) {
  const percent = job.rowsTotal ? Math.floor((100 * (job.rowsDone + job.rowsFailed)) / job.rowsTotal) : 0;
  const running = job.status === 'queued' || job.status === 'running';
  return [
    h('code', { class: 'job-id' }, job.id),
    h('a', { href: `#/models/${encode(job.model)}/versions/${job.version}` }, `${job.model} v${job.version}`),
    badge(job.status),
    h('div', { class: 'progress', dataset: { job: job.id, percent: String(percent) } },
      h('progress', { max: 100, value: percent, 'aria-label': `Job ${job.id} progress` }),
      h('span', { class: 'progress-text' }, `${percent} % · ${job.rowsDone} done, ${job.rowsFailed} failed of ${job.rowsTotal}`)),
    job.rowsPerSecond ? job.rowsPerSecond.toFixed(1) : '–',
    running ? formatDuration(job.etaSeconds) : '–',
    formatTime(job.createdAt),
    h('div', { class: 'row-actions' },
      h('a', { href: job.links.results, class: 'results-link', download: `${job.id}.jsonl` }, 'Results'),
      running && ctx.allows('operator') ? actionForm({
        id: `cancel-${job.id}`,
        title: 'Cancel',
        fields: [],
        describe: () => `Cancel job ${job.id}? Results of finished chunks stay readable.`,
        send: () => api.del(`/v1/batch/jobs/${encode(job.id)}`),
        done: reload,
      }) : null),
  ];
}

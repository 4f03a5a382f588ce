import { h, replace, encode, table, formatTime, formatBytes, badge, tagList, shapeText } from '../dom.js';
import * as api from '../api.js';
import { lineChart } from '../charts.js';
import { actionForm, field } from '../forms.js';
import { aliasText } from './models.js';
import { modelQualityRows, qualityWindows } from '../quality.js';

export function signatureSummary(signature) {
  const part = specs => specs.map(t => `${t.name} ${t.datatype}${shapeText(t.shape)}`).join(', ');
  return `${part(signature.inputs)} → ${part(signature.outputs)}`;
}

const kindMarks = { set: 'circle', rollback: 'triangle', deleted: 'crossRot' };

/** A model: versions, aliases and their timeline, the actions the caller's role allows, and serving settings. */
export async function modelPage(ctx, name) {
  const base = `/v1/models/${encode(name)}`;
  const sections = {
    aliases: h('section', { id: 'aliases', 'aria-labelledby': 'aliases-title' }),
    versions: h('section', { id: 'versions-section', 'aria-labelledby': 'versions-title' }),
    timeline: h('section', { id: 'timeline', 'aria-labelledby': 'timeline-title' }),
    quality: h('section', { id: 'model-quality', 'aria-labelledby': 'model-quality-title' }),
    actions: h('section', { id: 'actions', 'aria-labelledby': 'actions-title' }),
    serving: h('section', { id: 'serving', 'aria-labelledby': 'serving-title' }),
  };
  replace(ctx.main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / ', name),
    h('h1', null, name),
    Object.values(sections));

  let timelineChart = null;
  ctx.onLeave(() => timelineChart?.destroy());

  const load = async () => {
    const model = await api.get(base);
    replace(sections.aliases, h('h2', { id: 'aliases-title' }, 'Aliases'),
      model.aliases.length ? h('ul', { class: 'aliases' }, model.aliases.map(a => h('li', null, aliasText(a)))) : h('p', null, 'No alias yet.'));

    const aliased = new Map();
    for (const a of model.aliases) aliased.set(a.version, [...(aliased.get(a.version) ?? []), a.name]);
    replace(sections.versions, h('h2', { id: 'versions-title' }, 'Versions'),
      table(null, ['Version', 'Created', 'By', 'sha256', 'Size', 'Signature', 'Tags', 'State'],
        [...model.versions].reverse().map(v => [
          h('a', { href: `#/models/${encode(name)}/versions/${v.version}` }, `v${v.version}`),
          formatTime(v.createdAt),
          v.createdBy ?? '–',
          h('code', { title: v.sha256 }, v.sha256.slice(0, 12)),
          formatBytes(v.sizeBytes),
          signatureSummary(v.signature),
          tagList(v.tags),
          v.archived ? [badge('archived'), v.archiveReason ? h('span', { class: 'hint' }, ` by ${v.archivedBy ?? 'unknown'}: ${v.archiveReason}`) : null] : aliased.has(v.version) ? badge(aliased.get(v.version).join(', '), 'aliased') : badge('live'),
        ]), { id: 'versions' }));

    const aliasNames = [...new Set(['production', 'canary', ...model.aliases.map(a => a.name)])];
    const histories = await Promise.all(aliasNames.map(alias =>
      api.get(`${base}/aliases/${encode(alias)}/history`).then(changes => ({ alias, changes })).catch(() => ({ alias, changes: [] }))));
    drawTimeline(histories.filter(x => x.changes.length > 0));
    return model;
  };

  const drawTimeline = histories => {
    const all = histories.flatMap(x => x.changes).sort((a, b) => new Date(b.at) - new Date(a.at));
    const canvas = h('canvas', { id: 'alias-timeline-chart', role: 'img', 'aria-label': 'Alias timeline: the version each alias pointed at over time; the table below lists every change' });
    const now = Date.now();
    const datasets = histories.map(({ alias, changes }) => {
      // A removal is drawn as its ✕ at the version the alias left, then a gap until the alias is set again (a null y breaks the
      // line): with y null the mark itself would not be drawn.
      const points = changes.flatMap(c => {
        const x = new Date(c.at).getTime();
        return c.toVersion === null || c.toVersion === undefined
          ? [{ x, y: c.fromVersion ?? null, change: c }, { x: x + 1, y: null, change: null }]
          : [{ x, y: c.toVersion, change: c }];
      });
      const last = changes.at(-1);
      if (last && last.toVersion !== null) points.push({ x: now, y: last.toVersion, change: null });
      return {
        label: alias, points, stepped: 'before',
        pointStyle: points.map(p => (p.change ? kindMarks[p.change.kind] ?? 'circle' : false)),
        pointRadius: points.map(p => (p.change ? 6 : 0)),
      };
    });
    if (timelineChart) timelineChart.destroy();
    replace(sections.timeline, h('h2', { id: 'timeline-title' }, 'Alias timeline'),
      h('p', { class: 'hint' }, 'Each step is a change: ● set, ▲ rollback, ✕ removed. Hover a point for who and why.'),
      all.length ? h('div', { class: 'chart' }, canvas) : h('p', null, 'No alias change yet.'),
      all.length ? table('Every alias change, newest first', ['When', 'Alias', 'Change', 'Kind', 'Who', 'Why'],
        all.map(c => [formatTime(c.at), c.alias, `${c.fromVersion ? `v${c.fromVersion}` : '–'} → ${c.toVersion ? `v${c.toVersion}` : '–'}${c.weight !== null && c.weight !== undefined ? ` (${c.weight} %)` : ''}`,
          badge(c.kind), `${c.actor}${c.role ? ` (${c.role})` : ''}`, c.reason]), { id: 'alias-history' }) : null);
    if (all.length) {
      timelineChart = lineChart(canvas, {
        datasets, yTitle: 'version',
        tooltip: {
          label: item => {
            const change = item.raw.change;
            const target = change?.toVersion ? ` to v${change.toVersion}` : ` (was v${change?.fromVersion ?? '–'})`;
            return change ? `${item.dataset.label}: ${change.kind}${target} by ${change.actor}: ${change.reason}` : `${item.dataset.label}: v${item.raw.y} (now)`;
          },
        },
      });
      timelineChart.chart.options.scales.y.ticks = { stepSize: 1, precision: 0 };
      timelineChart.chart.update('none');
    }
  };

  const loadQuality = async model => {
    const settings = await api.get(`${base}/serving`);
    const window = '1h';
    const rows = await modelQualityRows(base, model, settings, window);
    replace(sections.quality, h('h2', { id: 'model-quality-title' }, 'Quality, drift and shadow'),
      rows.length === 0 ? h('p', null, 'No production, canary or shadow version to judge yet.')
      : [h('p', { class: 'hint' }, `Last ${window} of the aliased versions (PSI below 0.1 stable, above 0.2 a shift); a version's page has the charts and other windows (${qualityWindows.join(', ')}).`),
        !settings.payloadLog?.enabled ? h('p', { class: 'empty' }, 'The payload log is off, so there is nothing to judge: turn it on (and add quality settings) in the serving settings below.') : null,
        table(null, ['Alias', 'Version', 'Accuracy (or MAE) vs baseline', 'Largest drift (PSI)', 'Shadow'], rows, { id: 'model-quality-table' })]);
  };
  const refresh = async () => { const model = await load(); await loadServing(); await loadQuality(model).catch(() => {}); return model; };
  const model = await load();
  const loadServing = await servingSection(ctx, sections.serving, base);
  await Promise.all([loadServing(), loadQuality(model).catch(error => replace(sections.quality, h('p', { class: 'error' }, error.message)))]);
  actionsSection(ctx, sections.actions, base, model, refresh);
}

function actionsSection(ctx, section, base, model, refresh) {
  if (!ctx.allows('admin')) {
    replace(section, h('h2', { id: 'actions-title' }, 'Actions'),
      h('p', { id: 'no-actions' }, `Your role (${ctx.caller.role}) can read this model; changing aliases, rollouts and versions needs an admin key.`));
    return;
  }
  const number = (id, fieldName, attrs) => h('input', { id, name: fieldName, type: 'number', inputmode: 'numeric', ...attrs });
  const text = (id, fieldName, attrs) => h('input', { id, name: fieldName, type: 'text', autocomplete: 'off', ...attrs });
  const reason = id => h('textarea', { id, name: 'reason', rows: 2, 'aria-required': 'true' });
  const latest = model.latestVersion;

  const setAlias = actionForm({
    id: 'set-alias',
    title: 'Set an alias',
    fields: [
      field('Alias', text('set-alias-alias', 'alias', { value: 'production', list: 'alias-names' })),
      h('datalist', { id: 'alias-names' }, ['production', 'canary', 'staging'].map(a => h('option', { value: a }))),
      field('Version', number('set-alias-version', 'version', { value: latest, min: 1 })),
      field('Weight (%)', number('set-alias-weight', 'weight', { min: 0, max: 100 }), 'Share of unversioned traffic, for aliases other than production; leave empty for none.'),
      field('Reason (required, recorded in the history)', reason('set-alias-reason')),
    ],
    describe: v => `Point ${v.alias} of ${model.name} at version ${v.version}${v.weight ? ` with ${v.weight} % of the traffic` : ''}?`,
    send: v => api.put(`${base}/aliases/${encode(v.alias || 'production')}`, {
      version: v.version === '' ? null : Number(v.version),
      weight: v.weight === '' ? null : Number(v.weight),
      reason: v.reason,
    }),
    done: refresh,
  });

  const rollout = actionForm({
    id: 'start-rollout',
    title: 'Start a canary rollout',
    fields: [
      field('Version', number('start-rollout-version', 'version', { value: latest, min: 1 })),
      field('Steps (weights, %)', text('start-rollout-steps', 'steps', { value: '10, 25, 50, 100' })),
      field('Step interval', text('start-rollout-stepInterval', 'stepInterval', { value: '30s' })),
      field('Max error rate', text('start-rollout-maxErrorRate', 'maxErrorRate', { value: '0.01', inputmode: 'decimal' })),
      field('Max p99 (ms)', number('start-rollout-maxP99Ms', 'maxP99Ms', { value: 250 })),
      field('Reason (required, recorded with the rollout)', reason('start-rollout-reason')),
    ],
    required: ['reason'],
    describe: v => `Roll version ${v.version} of ${model.name} out through the canary alias (${v.steps} %), analysed every ${v.stepInterval}?`,
    send: v => api.post(`${base}/rollouts`, {
      version: v.version === '' ? null : Number(v.version),
      steps: v.steps.split(/[\s,]+/).filter(Boolean).map(Number),
      stepInterval: v.stepInterval || null,
      maxErrorRate: v.maxErrorRate === '' ? null : Number(v.maxErrorRate),
      maxP99Ms: v.maxP99Ms === '' ? null : Number(v.maxP99Ms),
      reason: v.reason,
    }),
    done: async () => { location.hash = '#/rollouts'; },
  });

  const rollback = actionForm({
    id: 'rollback',
    title: 'Roll production back',
    fields: [field('Reason (required, recorded in the history)', reason('rollback-reason'))],
    describe: () => `Move production of ${model.name} back to its previous good version?`,
    send: v => api.post(`${base}/rollback`, { reason: v.reason }),
    done: refresh,
  });

  const archive = actionForm({
    id: 'archive',
    title: 'Archive a version',
    fields: [field('Version', number('archive-version', 'version', { min: 1 }), 'It stays readable for audit; no alias may point at it any more.'),
      field('Reason (required, recorded on the version)', reason('archive-reason'))],
    required: ['reason'],
    describe: v => `Archive version ${v.version} of ${model.name}? This cannot be undone.`,
    send: v => api.del(`${base}/versions/${encode(v.version || '0')}?reason=${encode(v.reason.trim())}`),
    done: refresh,
  });

  replace(section, h('h2', { id: 'actions-title' }, 'Actions'), h('div', { class: 'actions' }, setAlias, rollout, rollback, archive));
}

async function servingSection(ctx, section, base) {
  return async () => {
    const settings = await api.get(`${base}/serving`);
    const canEdit = ctx.allows('admin');
    const num = (id, fieldName, value, attrs) => h('input', { id, name: fieldName, type: 'number', value: value ?? '', disabled: !canEdit, ...attrs });
    const text = (id, fieldName, value) => h('input', { id, name: fieldName, type: 'text', autocomplete: 'off', value: value ?? '', disabled: !canEdit });
    const check = (id, fieldName, checked) => h('input', { id, name: fieldName, type: 'checkbox', value: 'true', checked: Boolean(checked), disabled: !canEdit });
    const task = h('select', { id: 'serving-task', name: 'task', disabled: !canEdit },
      ['', 'classification', 'regression'].map(t => h('option', { value: t, selected: (settings.quality?.task ?? '') === t }, t || 'none (not judged)')));
    // Field names are the last segment of the server's member names (payloadLog.sampleRate → sampleRate), so its 400s land next to them.
    const fields = [
      field('Instances (1–64)', num('serving-instanceCount', 'instanceCount', settings.instanceCount)),
      field('Dynamic batching', check('serving-batching', 'batchingEnabled', settings.batching?.enabled)),
      field('Max batch size (1–4096)', num('serving-maxBatchSize', 'maxBatchSize', settings.batching?.maxBatchSize)),
      field('Max queue delay (ms, 0–10000)', num('serving-maxQueueDelayMs', 'maxQueueDelayMs', settings.batching?.maxQueueDelayMs)),
      field('Response cache', check('serving-responseCache', 'responseCache', settings.responseCache?.enabled)),
      field('Payload log (records requests for quality, drift and shadow)', check('serving-payloadLog', 'payloadLogEnabled', settings.payloadLog?.enabled)),
      field('Payload log sample rate (0–1)', num('serving-sampleRate', 'sampleRate', settings.payloadLog?.sampleRate, { step: 'any' })),
      field('Quality task', task),
      field('Quality output (tensor judged)', text('serving-output', 'output', settings.quality?.output)),
      field('Class labels (comma-separated, optional)', text('serving-labels', 'labels', settings.quality?.labels?.join(', '))),
    ];
    const toNumber = value => (value === undefined || value === '' ? null : Number(value));
    const form = canEdit ? actionForm({
      id: 'serving-form',
      title: 'Save serving settings',
      fields,
      describe: () => 'Replace how the scorers serve this model? Scorers reload it with these settings.',
      // PUT replaces the whole settings: every member the form does not edit (warm-up shapes, the payload log's record size) is sent back as it was.
      send: v => api.put(`${base}/serving`, {
        ...settings,
        instanceCount: toNumber(v.instanceCount),
        batching: v.batchingEnabled || v.maxBatchSize || v.maxQueueDelayMs
          ? { enabled: Boolean(v.batchingEnabled), maxBatchSize: toNumber(v.maxBatchSize), maxQueueDelayMs: toNumber(v.maxQueueDelayMs) } : null,
        warmupShapes: settings.warmupShapes ?? null,
        responseCache: v.responseCache ? { enabled: true } : null,
        payloadLog: v.payloadLogEnabled || v.sampleRate
          ? { ...(settings.payloadLog ?? {}), enabled: Boolean(v.payloadLogEnabled), sampleRate: toNumber(v.sampleRate) } : null,
        quality: v.task || v.output
          ? { task: v.task, output: v.output, labels: v.labels.trim() ? v.labels.split(',').map(l => l.trim()).filter(Boolean) : null } : null,
      }),
    }) : h('div', { class: 'readonly' }, fields);
    replace(section, h('h2', { id: 'serving-title' }, 'Serving settings'), form);
  };
}

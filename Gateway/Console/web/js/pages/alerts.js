import { h, replace, table, formatTime, badge, encode } from '../dom.js';
import * as api from '../api.js';

/** Alerts, firing first, each linking to the model and version it is about. */
export async function alertsPage(ctx) {
  const firing = h('section', { id: 'firing-alerts', 'aria-labelledby': 'firing-title' });
  const resolved = h('section', { id: 'resolved-alerts', 'aria-labelledby': 'resolved-title' });
  replace(ctx.main, h('h1', null, 'Alerts'), firing, resolved);
  const rows = alerts => alerts.map(a => [
    badge(a.status), badge(a.severity), a.alert,
    a.model ? h('a', { href: `#/models/${encode(a.model)}` }, a.model) : '–',
    a.model && a.version ? h('a', { href: `#/models/${encode(a.model)}/versions/${a.version}` }, `v${a.version}`) : '–',
    `${a.value} (threshold ${a.threshold})`, formatTime(a.firedAt), a.resolvedAt ? formatTime(a.resolvedAt) : '–', a.summary]);
  const headers = ['Status', 'Severity', 'Alert', 'Model', 'Version', 'Value', 'Fired', 'Resolved', 'Summary'];
  const load = async () => {
    const [on, off] = await Promise.all([api.get('/v1/alerts?status=firing'), api.get('/v1/alerts?status=resolved&limit=100')]);
    replace(firing, h('h2', { id: 'firing-title' }, `Firing (${on.length})`), on.length ? table(null, headers, rows(on), { id: 'firing-table' }) : h('p', null, 'Nothing is firing.'));
    replace(resolved, h('h2', { id: 'resolved-title' }, 'Resolved'), off.length ? table(null, headers, rows(off), { id: 'resolved-table' }) : h('p', null, 'None yet.'));
  };
  await load();
  ctx.every(5000, () => load().catch(() => {}));
}

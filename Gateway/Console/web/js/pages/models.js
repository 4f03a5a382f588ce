import { h, replace, encode, table, formatTime } from '../dom.js';
import * as api from '../api.js';

/** An alias in words; a shadow's weight is the share of production's requests copied to it (not taken from production), and says so. */
export function aliasText(alias) {
  if (alias.weight === null || alias.weight === undefined) return `${alias.name} → v${alias.version}`;
  return alias.name === 'shadow' ? `${alias.name} → v${alias.version} (copy of ${alias.weight} % of production)` : `${alias.name} → v${alias.version} (${alias.weight} %)`;
}

/** Models: searchable by name prefix and by tag (k=v), with aliases (canary weight included) and the latest version. */
export async function modelsPage(ctx) {
  const search = h('input', { id: 'model-search', type: 'search', name: 'prefix', placeholder: 'iris', autocomplete: 'off' });
  const tag = h('input', { id: 'model-tag', type: 'search', name: 'tag', placeholder: 'stage=review', autocomplete: 'off' });
  const results = h('div', { id: 'models', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', role: 'search' },
    h('div', { class: 'field' }, h('label', { for: 'model-search' }, 'Name starts with'), search),
    h('div', { class: 'field' }, h('label', { for: 'model-tag' }, 'Tag (k=v)'), tag),
    h('button', { type: 'submit' }, 'Search'));
  replace(ctx.main, h('h1', null, 'Models'), form, results);

  const load = async () => {
    const query = new URLSearchParams({ pageSize: '200' });
    if (search.value.trim()) query.set('prefix', search.value.trim());
    if (tag.value.trim()) query.set('tag', tag.value.trim());
    try {
      const page = await api.get(`/v1/models?${query}`);
      const versions = await Promise.all(page.items.map(m => api.get(`/v1/models/${encode(m.name)}/versions/${m.latestVersion}`).catch(() => null)));
      replace(results, page.items.length === 0 ? h('p', null, 'No model matches.') : table(`${page.count} model(s)`,
        ['Model', 'Aliases', 'Latest version', 'Tags of the latest version', 'Created'],
        page.items.map((m, i) => [
          h('a', { href: `#/models/${encode(m.name)}` }, m.name),
          m.aliases.length ? h('ul', { class: 'aliases' }, m.aliases.map(a => h('li', null, aliasText(a)))) : '–',
          h('a', { href: `#/models/${encode(m.name)}/versions/${m.latestVersion}` }, `v${m.latestVersion}`),
          versions[i] ? Object.entries(versions[i].tags).map(([k, v]) => `${k}=${v}`).join(', ') || '–' : '–',
          formatTime(m.createdAt),
        ]), { class: 'models-table' }));
    } catch (error) {
      replace(results, h('p', { class: 'error', role: 'alert' }, error.message));
    }
  };
  form.addEventListener('submit', event => { event.preventDefault(); load(); });
  search.addEventListener('input', () => { clearTimeout(search.pending); search.pending = setTimeout(load, 250); });
  await load();
}

// Tiny DOM helpers: every element is built with createElement and text nodes, never from HTML strings, so no value from the API
// can become markup (and no inline script or style exists for the Content-Security-Policy to allow).

/** Creates an element: h('a', {href: '#/x', class: 'c'}, 'text', child). Attributes starting with "on" become listeners. */
export function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of an element. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const encode = encodeURIComponent;

export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function shapeText(shape) {
  return `[${shape.map(d => (d < 0 ? '?' : d)).join(', ')}]`;
}

/** A table with a caption, header cells and rows of cells. */
export function table(caption, headers, rows, attributes) {
  return h('table', attributes,
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, headers.map(text => h('th', { scope: 'col' }, text)))),
    h('tbody', null, rows.map(cells => h('tr', null, cells.map(cell => h('td', null, cell))))));
}

/** A status word with its own style: the word carries the meaning, the colour only repeats it. */
export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind ?? text}` }, text);
}

export function tagList(tags) {
  const entries = Object.entries(tags ?? {});
  return entries.length === 0 ? '–' : h('ul', { class: 'tags' }, entries.map(([k, v]) => h('li', null, `${k}=${v}`)));
}

import { h, replace } from './dom.js';
import * as api from './api.js';
import { signInPage } from './pages/signin.js';
import { modelsPage } from './pages/models.js';
import { modelPage } from './pages/model.js';
import { versionPage } from './pages/version.js';
import { rolloutsPage } from './pages/rollouts.js';
import { batchPage } from './pages/batch.js';
import { alertsPage } from './pages/alerts.js';

// Hash routes (#/models/iris/versions/2): the gateway serves one page at /ui/ and every view is drawn from the public API.
const routes = [
  [/^#\/models\/([^/]+)\/versions\/(\d+)$/, (ctx, m) => versionPage(ctx, decodeURIComponent(m[1]), Number(m[2]))],
  [/^#\/models\/([^/]+)$/, (ctx, m) => modelPage(ctx, decodeURIComponent(m[1]))],
  [/^#\/models$/, ctx => modelsPage(ctx)],
  [/^#\/rollouts$/, ctx => rolloutsPage(ctx)],
  [/^#\/batch$/, ctx => batchPage(ctx)],
  [/^#\/alerts$/, ctx => alertsPage(ctx)],
];

const main = document.getElementById('main');
let caller = null;
let cleanups = [];

/** What a page gets: the caller (key id and role), a main element, and a way to register timers and charts to stop on leaving. */
function context() {
  return {
    caller,
    main,
    allows: required => api.allows(caller?.role, required),
    onLeave: cleanup => cleanups.push(cleanup),
    every(ms, action) {
      const timer = setInterval(() => { if (!document.hidden) action(); }, ms);
      cleanups.push(() => clearInterval(timer));
    },
  };
}

function leave() {
  for (const cleanup of cleanups.splice(0)) {
    try { cleanup(); } catch { /* a chart already gone */ }
  }
}

async function render() {
  leave();
  if (!caller) {
    showSignedIn(false);
    signInPage(main, me => { caller = me; navigate('#/models'); });
    return;
  }
  showSignedIn(true);
  const hash = location.hash || '#/models';
  const route = routes.find(([pattern]) => pattern.test(hash));
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', hash.startsWith(link.getAttribute('href')));
    if (link.hasAttribute('aria-current')) link.setAttribute('aria-current', 'page');
  }
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    if (!route) throw new Error(`There is no page at ${hash}.`);
    await route[1](context(), hash.match(route[0]));
  } catch (error) {
    replace(main, h('h1', null, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, error.message));
  }
  main.focus({ preventScroll: true });
}

function showSignedIn(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('whoami').hidden = !signedIn;
  replace(document.getElementById('me'), signedIn ? [h('span', { class: 'key-id' }, caller.keyId), ' ', h('span', { class: 'role' }, `(${caller.role})`)] : []);
}

document.getElementById('signout').addEventListener('click', async () => {
  try { await api.signOut(); } catch { /* the session may already be gone */ }
  caller = null;
  navigate('#/models');
});

/** Shows the page of a hash, also when it is already the current one (hashchange would not fire). */
function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

api.setSignedOutHandler(() => {
  if (caller) { caller = null; render(); }
});

window.addEventListener('hashchange', render);

(async () => {
  try { caller = await api.me(); } catch { caller = null; }
  await render();
})();

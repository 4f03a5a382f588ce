import { h, replace } from '../dom.js';
import * as api from '../api.js';

/** Sign-in: the key is sent once in a POST body, then the field is cleared; the gateway answers with an HttpOnly cookie. */
export function signInPage(main, signedIn) {
  const key = h('input', { id: 'api-key', name: 'apiKey', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'signin-error' });
  const error = h('p', { id: 'signin-error', class: 'field-error', role: 'alert' });
  const button = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { id: 'signin-form', class: 'signin', novalidate: true },
    h('h1', null, 'Sign in'),
    h('p', null, 'Paste an API key (reader, operator or admin). The gateway exchanges it for a session cookie that scripts cannot read; the key is not kept by this page.'),
    h('div', { class: 'field' }, h('label', { for: 'api-key' }, 'API key'), key, error),
    h('div', { class: 'buttons' }, button),
    h('p', { class: 'hint' }, 'The admin key of a local platform is in .data/secrets/admin-api-key. ', h('a', { href: '/docs' }, 'API reference')));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    error.textContent = '';
    const value = key.value;
    key.value = '';
    try {
      signedIn(await api.signIn(value));
    } catch (e) {
      error.textContent = e.message;
      key.focus();
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  key.focus();
}

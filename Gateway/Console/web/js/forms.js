import { h, replace } from './dom.js';
import { ApiError } from './api.js';

// Forms of operator actions: every field labelled, every server error shown next to the field it names, a confirmation step
// before anything is sent, and the confirming button disabled while the request is in flight (a double click sends once).

let nextId = 0;

/** A labelled field with a slot for its error. */
export function field(label, input, hint) {
  const id = input.id || `f${++nextId}`;
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  input.setAttribute('aria-describedby', `${id}-error`);
  return h('div', { class: 'field', dataset: { field: input.name } },
    h('label', { for: id }, label), input, hint ? h('p', { class: 'hint' }, hint) : null, error);
}

/** The message of an empty required reason, worded like the registry's for the APIs that require one, so every form says the same. */
export const reasonRequired = "'reason' is required: say why; it is recorded with the change.";

/**
 * An action form: collects values, shows "confirm" with a summary, then calls send(values).
 * required: names of fields that must not be empty, checked before the confirmation (for APIs where the field is optional for
 * older clients but the console asks for it); the message goes next to the field, as a server's would.
 * A server error goes next to the field it names (by the problem's 'errors' keys, else by what its detail names).
 */
export function actionForm({ id, title, fields, describe, send, done, required }) {
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const confirmArea = h('div', { class: 'confirm', hidden: true });
  const submit = h('button', { type: 'submit' }, title);
  const form = h('form', { id, class: 'action', novalidate: true, 'aria-label': title },
    h('h3', null, title), fields, h('div', { class: 'buttons' }, submit), confirmArea, status);

  const clearErrors = () => {
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
    status.textContent = '';
  };

  form.addEventListener('submit', event => {
    event.preventDefault();
    clearErrors();
    const values = Object.fromEntries(new FormData(form).entries());
    const missing = (required ?? []).filter(name => !String(values[name] ?? '').trim());
    if (missing.length > 0) {
      confirmArea.hidden = true;
      for (const name of missing) place(form, name, name === 'reason' ? reasonRequired : `'${name}' is required.`);
      form.querySelector(`[name="${CSS.escape(missing[0])}"]`)?.focus();
      return;
    }
    const yes = h('button', { type: 'button', class: 'danger', id: `${id}-confirm` }, 'Confirm');
    const no = h('button', { type: 'button', id: `${id}-cancel` }, 'Cancel');
    let sending = false;
    yes.addEventListener('click', async () => {
      if (sending) return;
      sending = true;
      yes.disabled = true;
      no.disabled = true;
      try {
        const result = await send(values);
        confirmArea.hidden = true;
        status.textContent = 'Done.';
        form.reset();
        await done?.(result);
      } catch (error) {
        confirmArea.hidden = true;
        showError(form, status, error);
      } finally {
        sending = false;
      }
    });
    no.addEventListener('click', () => { confirmArea.hidden = true; submit.focus(); });
    const why = String(values.reason ?? '').trim();
    replace(confirmArea, h('p', null, describe(values)), why ? h('p', null, 'Reason recorded: ', h('q', null, why)) : null, yes, ' ', no);
    confirmArea.hidden = false;
    yes.focus();
  });
  return form;
}

/** Puts the server's message next to the field it is about, or under the form when it names none. */
export function showError(form, status, error) {
  if (!(error instanceof ApiError)) {
    status.textContent = `The request failed: ${error.message}`;
    return;
  }
  const problem = error.problem;
  const placed = [];
  for (const [key, messages] of Object.entries(problem.errors ?? {})) {
    if (place(form, key, [].concat(messages).join(' '))) placed.push(key);
  }
  if (placed.length === 0) {
    const detail = problem.detail || problem.title || error.message;
    const text = `${problem.title ?? ''} ${detail}`;
    const names = [...form.querySelectorAll('[data-field]')].map(f => f.dataset.field).filter(Boolean);
    // A quoted name ('weight') is what the server's messages use for the field at fault; a bare word is the fallback.
    const target = names.find(name => text.includes(`'${name}'`))
      ?? names.find(name => new RegExp(`\\b${name}\\b`, 'i').test(text));
    if (target && place(form, target, detail)) return;
    status.textContent = detail;
  }
}

function place(form, key, message) {
  const wrapper = form.querySelector(`[data-field="${CSS.escape(key)}"]`)
    ?? form.querySelector(`[data-field="${CSS.escape(key.split('.').pop())}"]`);
  if (!wrapper) return false;
  wrapper.querySelector('.field-error').textContent = message;
  wrapper.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
  return true;
}

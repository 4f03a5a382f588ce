// Calls the platform's public API with the session cookie the gateway set at sign-in (the browser sends it; no script can read it).
// Writes carry the session's CSRF token, which lives only in this module's memory.

let csrfToken = null;
let onSignedOut = () => {};

/** An API answer that was not a success: its status and the server's RFC 7807 problem (title, detail, errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

export function setSignedOutHandler(handler) { onSignedOut = handler; }

export function setCsrfToken(token) { csrfToken = token; }

export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await response.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = { detail: text }; }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== '/v1/session') onSignedOut();
    throw new ApiError(response.status, json);
  }
  return json;
}

export const get = path => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
export const put = (path, body) => request('PUT', path, body);
export const del = path => request('DELETE', path);

/** Signs in: the key goes once in a POST body and is forgotten; the answer sets the HttpOnly cookie. */
export async function signIn(apiKey) {
  const me = await request('POST', '/v1/session', { apiKey });
  csrfToken = me.csrfToken;
  return me;
}

export async function me() {
  const caller = await get('/v1/me');
  csrfToken = caller.csrfToken ?? null;
  return caller;
}

export async function signOut() {
  try { await del('/v1/session'); } finally { csrfToken = null; }
}

/** Roles each including the ones below it, as the gateway ranks them (docs/gateway.md). */
const ranks = { reader: 0, operator: 1, admin: 2 };
export const allows = (role, required) => (ranks[role] ?? -1) >= ranks[required];

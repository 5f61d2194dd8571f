// The panel's calls to the gateway. The session cookie is HttpOnly (this script never sees it); the CSRF token
// comes from the sign-in answer and is sent on every change in X-CSRF-Token.

export class PanelError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrf = null;

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (method !== 'GET') {
    init.headers['content-type'] = 'application/json';
    if (csrf) init.headers['x-csrf-token'] = csrf;
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  let doc = null;
  try {
    doc = await res.json();
  } catch {
    doc = null;
  }
  if (!res.ok) throw new PanelError(res.status, (doc && doc.error) || `the gateway answered ${res.status}`);
  return doc;
}

export async function session() {
  const s = await call('GET', 'api/session');
  csrf = s.signedIn ? s.csrf : null;
  return s;
}

export async function signIn(code) {
  const s = await call('POST', 'api/login', { code });
  csrf = s.csrf;
  return s;
}

export async function signOut() {
  await call('POST', 'api/logout', {});
  csrf = null;
}

export const state = () => call('GET', 'api/state');
export const history = () => call('GET', 'api/history');

/** target: { device, category } | { profile, campaign } | { profile, channel } */
export const change = (target, granted) => call('POST', 'api/consent', { ...target, granted });

export const eraseDevice = (device) => call('POST', `api/devices/${encodeURIComponent(device)}/erase`, {});

/** body: { choice: 'defer', hours } | { choice: 'never' } | { choice: 'clear' } */
export const firmwareChoice = (device, body) => call('POST', `api/devices/${encodeURIComponent(device)}/firmware`, body);

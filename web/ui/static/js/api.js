// The daemon's API, as the page uses it. The browser is signed in by an
// HttpOnly session cookie (set by the link `kith ui` opens), so no request
// here carries a token, and no script can read one.

export const prefix = '/api/v1';

/** ApiError is a failure the daemon explained: message is one sentence. */
export class ApiError extends Error {
  constructor(message, kind, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

const signedOutListeners = new Set();

/** onSignedOut calls fn when the daemon refuses the session. */
export function onSignedOut(fn) { signedOutListeners.add(fn); }

/** url builds an API URL with query parameters. */
export function url(path, params = {}) {
  const u = new URL(prefix + path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

/**
 * api calls the daemon and returns its JSON answer, or throws an ApiError.
 * body, when given, is sent as text/plain (secrets such as invite tokens
 * go there, never in the URL).
 */
export async function api(path, { method = 'GET', params, body } = {}) {
  let res;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'text/plain;charset=utf-8';
  try {
    res = await fetch(url(path, params), { method, body, credentials: 'same-origin', headers });
  } catch {
    throw new ApiError('The daemon is not answering: is `kith daemon` still running?', 'unavailable', 0);
  }
  if (!res.ok) {
    let body = {};
    try { body = await res.json(); } catch { /* not JSON */ }
    if (res.status === 401) signedOutListeners.forEach((fn) => fn());
    throw new ApiError(body.error || `The daemon answered ${res.status}.`, body.kind, res.status);
  }
  return res.json();
}

/** gatewayURL is where the daemon serves content for browsers. */
export function gatewayURL(cid, { name, download, path } = {}) {
  let p = '/ipfs/' + encodeURIComponent(cid);
  if (path) p += '/' + path.split('/').map(encodeURIComponent).join('/');
  const q = new URLSearchParams();
  if (name) q.set('filename', name);
  if (download) q.set('download', 'true');
  const s = q.toString();
  return s ? p + '?' + s : p;
}

// The daemon's API, as the page uses it. Each request carries the page's
// session (session.js) in a header, never a cookie, and never the API
// token, which the page does not have.

import * as session from './session.js';

export const prefix = '/api/v1';

/** ApiError is a failure the daemon explained: message is one sentence. */
export class ApiError extends Error {
  constructor(message, kind, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

/** url builds an API URL with query parameters (an array repeats one). */
export function url(path, params = {}) {
  const u = new URL(prefix + path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one !== undefined && one !== null && one !== '') u.searchParams.append(k, one);
    }
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
  const headers = session.headers({ Accept: 'application/json' });
  if (body !== undefined) headers['Content-Type'] = 'text/plain;charset=utf-8';
  try {
    res = await fetch(url(path, params), { method, body, credentials: 'omit', headers });
  } catch {
    throw notAnswering();
  }
  if (!res.ok) throw await refusal(res);
  return res.json();
}

/**
 * events POSTs to one of the daemon's calls that stream NDJSON events
 * (add, pin/add), reports each progress event to onProgress, and resolves
 * with the result of its done event; it rejects with the daemon's
 * sentence. what names the work in the errors of a cut-off stream.
 */
/** setPaused pauses (or resumes) the followed, watched or synced folder at
 * path (kith mirror pause, resume). */
export function setPaused(path, paused) {
  return api(paused ? '/groups/pause' : '/groups/resume', { method: 'POST', params: { path } });
}

export async function events(path, params, onProgress = () => {}, what = 'The request') {
  let res;
  try {
    res = await fetch(url(path, params),
      { method: 'POST', credentials: 'omit', headers: session.headers({ Accept: 'application/x-ndjson' }) });
  } catch {
    throw notAnswering();
  }
  if (!res.ok) throw await refusal(res);
  const next = lines(res.body);
  for (;;) {
    let line;
    try {
      line = await next();
    } catch {
      throw new Error(`${what} was cut off: is the daemon still running?`);
    }
    if (line === null) break;
    if (!line.trim()) continue;
    let ev;
    try { ev = JSON.parse(line); } catch { continue; }
    if (ev.type === 'progress') onProgress(ev);
    else if (ev.type === 'done') return ev.result;
    else if (ev.type === 'error') throw new ApiError(ev.error, ev.kind, 200);
  }
  throw new Error(`The daemon ended ${what.toLowerCase()} without a result.`);
}

/**
 * lines reads a streamed answer (NDJSON) a line at a time: each call of
 * the function it returns resolves with the next line, or null at the
 * end; it rejects when the stream breaks.
 */
function lines(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  return async () => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return line;
      }
      const chunk = await reader.read();
      if (chunk.done) return null;
      buf += chunk.value;
    }
  };
}

/** notAnswering is the error for a request the daemon did not answer. */
export function notAnswering() {
  return new ApiError('The daemon is not answering: is `kith daemon` still running?', 'unavailable', 0);
}

/**
 * refusal reads the daemon's refusal (a response not ok) as an ApiError;
 * a 401 (the session ended) signs the page out.
 */
export async function refusal(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401) session.signedOut('ended');
  return new ApiError(body.error || `The daemon answered ${res.status}.`, body.kind, res.status);
}

/**
 * gatewayURL is where a browser opens content: the subdomain gateway,
 * http://CID.ipfs.localhost:PORT/path, where every CID is an origin of its
 * own that holds no credential and reaches no API (browsers resolve
 * *.localhost to this computer). The daemon fetches from peers whatever
 * it does not hold, as the browser reads it. A CID that is not a DNS label
 * (CIDv0) goes through localhost's path gateway, which redirects to its
 * canonical label.
 */
export function gatewayURL(cid, { name, download, path } = {}) {
  const port = location.port ? ':' + location.port : '';
  let p = '/';
  if (path) p += path.split('/').map(encodeURIComponent).join('/');
  const origin = /^b[a-z2-7]{1,62}$/.test(cid)
    ? `http://${cid}.ipfs.localhost${port}`
    : `http://localhost${port}/ipfs/${encodeURIComponent(cid)}`;
  const q = new URLSearchParams();
  if (name) q.set('filename', name);
  if (download) q.set('download', 'true');
  const s = q.toString();
  return origin + p + (s ? '?' + s : '');
}

/**
 * nameURL is where a browser opens what an IPNS name (k51...) leads to:
 * the name's own origin on the subdomain gateway,
 * http://NAME.ipns.localhost:PORT/, which the daemon serves from what the
 * name's newest record points to.
 */
export function nameURL(name) {
  const port = location.port ? ':' + location.port : '';
  return `http://${name}.ipns.localhost${port}/`;
}

/**
 * openCode opens a short code for cid (POST /codes, as kith send does): it
 * resolves with {code, close} once the daemon gave one; the code stays
 * open until close() or the page goes. onClosed(message) hears why, if
 * the daemon closes it first (too many wrong proofs, or it stopped).
 */
export async function openCode(cid, onClosed = () => {}) {
  const stop = new AbortController();
  let res;
  try {
    res = await fetch(url('/codes', { cid }), { method: 'POST', credentials: 'omit', signal: stop.signal,
      headers: session.headers({ Accept: 'application/x-ndjson' }) });
  } catch {
    throw notAnswering();
  }
  if (!res.ok) throw await refusal(res);
  const line = lines(res.body);
  let first;
  try { first = JSON.parse(await line()); } catch { first = {}; }
  if (!first || !first.code) {
    stop.abort();
    throw new Error('The daemon gave no code.');
  }
  let closed = false;
  const close = () => { closed = true; stop.abort(); };
  line().then((l) => {
    if (closed) return;
    let msg = 'The daemon stopped: the code is closed.';
    try { msg = JSON.parse(l).error || msg; } catch { /* ended */ }
    onClosed(msg);
  }, () => { if (!closed) onClosed('The daemon stopped: the code is closed.'); });
  return { code: first.code, close };
}

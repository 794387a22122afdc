// The page's session with the daemon. `kith ui` opens the UI with a
// one-time code in the address's fragment (#signin=CODE), which browsers
// never send to a server; the page takes it out of the address bar and
// trades it (POST /api/v1/ui/session) for a random session secret. The
// secret stays in this tab's sessionStorage and goes, in the Kith-Session
// header, only with the page's own requests to this daemon. It is not a
// cookie on purpose: browsers send cookies for 127.0.0.1 to every port of
// it, so any other local web server would receive one. The API token never
// reaches the page.

const signInPath = '/api/v1/ui/session';
const storageKey = 'kith-session';

/** header is the request header that carries the session. */
export const header = 'Kith-Session';

// Tabs of the UI opened by hand (a bookmark, a typed address) start without
// a session; they borrow one from a signed-in tab of the same origin. Only
// the UI's own pages share that origin: content from the gateway runs in an
// opaque one and cannot join the channel.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('kith-session') : null;

let secret = load();
const listeners = new Set();

function load() {
  try { return sessionStorage.getItem(storageKey); } catch { return null; }
}

function store(s) {
  secret = s;
  try {
    if (s) sessionStorage.setItem(storageKey, s);
    else sessionStorage.removeItem(storageKey);
  } catch { /* storage disabled: the session lasts as long as the page */ }
}

/** has tells whether the page holds a session (the daemon may still refuse it). */
export function has() { return !!secret; }

/** headers adds the session to a request's headers. */
export function headers(h = {}) {
  if (secret) h[header] = secret;
  return h;
}

/**
 * onSignedOut calls fn(reason) when the page loses its session: 'ended'
 * when the daemon refused it (restarted, expired, revoked), 'everywhere'
 * after "Sign out everywhere" in this or another tab.
 */
export function onSignedOut(fn) { listeners.add(fn); }

/** signedOut forgets the session and tells the page why. */
export function signedOut(reason) {
  store(null);
  listeners.forEach((fn) => fn(reason));
}

/** signedOutEverywhere tells every tab of the UI that all sessions ended. */
export function signedOutEverywhere() {
  if (channel) channel.postMessage({ type: 'signed-out' });
  signedOut('everywhere');
}

/**
 * takeCode returns the sign-in code the address carries, if any, after
 * removing it from the address bar and the tab's history.
 */
export function takeCode() {
  const m = /^#signin=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return m[1];
}

/**
 * signIn trades a one-time code for a session. It throws an Error whose
 * message is one sentence for the reader.
 */
export async function signIn(code) {
  let res;
  try {
    res = await fetch(signInPath, {
      method: 'POST',
      body: code,
      headers: { 'Content-Type': 'text/plain;charset=utf-8', Accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch {
    throw new Error('The daemon is not answering: is `kith daemon` still running?');
  }
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok || !body.secret) {
    if (res.status === 403) throw new Error('This sign-in link has expired or was already used.');
    throw new Error(body.error || `The daemon answered ${res.status}.`);
  }
  store(body.secret);
}

/** borrow asks the UI's other open tabs for their session, briefly. */
export function borrow(ms = 300) {
  if (!channel || secret) return Promise.resolve(has());
  return new Promise((resolve) => {
    const done = (ok) => {
      channel.removeEventListener('message', onMessage);
      clearTimeout(timer);
      resolve(ok);
    };
    const onMessage = (e) => {
      if (e.data && e.data.type === 'session' && typeof e.data.secret === 'string') {
        store(e.data.secret);
        done(true);
      }
    };
    channel.addEventListener('message', onMessage);
    const timer = setTimeout(() => done(false), ms);
    channel.postMessage({ type: 'ask' });
  });
}

if (channel) {
  channel.addEventListener('message', (e) => {
    const type = e.data && e.data.type;
    if (type === 'ask' && secret) channel.postMessage({ type: 'session', secret });
    else if (type === 'signed-out' && secret) signedOut('everywhere');
  });
}

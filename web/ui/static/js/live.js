// live keeps the page up to date from the daemon's one event stream
// (GET /api/v1/events, server-sent events): stats every second, background
// job changes, pin changes, group changes and uploads to peers. Pages
// subscribe to what they show (what changes with time alone, such as how
// long ago a member was heard, they ask again every few seconds while
// shown). The stream is read with fetch rather than EventSource, which
// cannot send the session header; it reconnects by itself when it breaks.

import { prefix } from './api.js';
import * as session from './session.js';

/** history is how many stats samples the rate chart keeps (two minutes). */
export const historyLength = 120;

const listeners = new Map(); // event name -> Set of functions
// generation counts connects and disconnects: a loop whose generation has
// passed stops, so a quick disconnect and connect never leave two streams.
let generation = 0;
let connected = false;
let abort = null;

/** state is what the stream told so far. */
export const state = {
  connected: false,
  stats: null,
  history: [], // stats samples, oldest first
  jobs: new Map(), // id -> job
  uploads: null, // what peers download from us, once known
};

/** on calls fn(data) for each event of the kind; it returns an unsubscribe. */
export function on(kind, fn) {
  if (!listeners.has(kind)) listeners.set(kind, new Set());
  listeners.get(kind).add(fn);
  return () => listeners.get(kind).delete(fn);
}

function emit(kind, data) {
  (listeners.get(kind) || []).forEach((fn) => fn(data));
}

/** connect opens the stream and keeps it open until disconnect. */
export function connect() {
  if (connected) return;
  connected = true;
  run(++generation);
}

/** disconnect closes the stream (when the page is signed out). */
export function disconnect() {
  connected = false;
  generation++;
  if (abort) abort.abort();
}

function setConnected(ok) {
  state.connected = ok;
  emit('connection', ok);
}

async function run(gen) {
  let retry = 2000; // the daemon may say otherwise (retry: field)
  while (gen === generation) {
    abort = new AbortController();
    try {
      const res = await fetch(prefix + '/events', {
        headers: session.headers({ Accept: 'text/event-stream' }),
        credentials: 'omit',
        cache: 'no-store',
        signal: abort.signal,
      });
      if (res.status === 401) {
        disconnect();
        state.connected = false;
        session.signedOut('ended');
        return;
      }
      if (res.ok && res.body) {
        setConnected(true);
        // Pin changes made before the stream listened (a page draws its
        // list first) or while it was down came as no event: pages showing
        // pins redraw once. Jobs and stats are sent whole on connect.
        emit('pins', {});
        retry = await read(res.body, retry);
      }
    } catch { /* the daemon went away, or disconnect */ }
    if (gen !== generation) return;
    setConnected(false);
    await new Promise((resolve) => setTimeout(resolve, retry));
  }
}

/** read dispatches the stream's events until it ends; it returns the retry delay. */
async function read(body, retry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return retry;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'event') event = v;
        else if (field === 'data') data.push(v);
        else if (field === 'retry' && /^\d+$/.test(v)) retry = Number(v);
      }
      // One event the page cannot read must not end the stream (and with
      // it every later event): it is logged and skipped.
      if (data.length) {
        try {
          dispatch(event, data.join('\n'));
        } catch (err) {
          console.error(`kith: event ${event} skipped:`, err);
        }
      }
    }
  }
}

function dispatch(event, data) {
  switch (event) {
    case 'history': {
      // The daemon's last two minutes: the chart shows what happened
      // before this page opened (or while it was disconnected).
      state.history = (JSON.parse(data) || []).slice(-historyLength);
      if (state.stats) emit('stats', state.stats);
      break;
    }
    case 'stats': {
      const s = JSON.parse(data);
      state.stats = s;
      state.history.push(s);
      if (state.history.length > historyLength) state.history.shift();
      emit('stats', s);
      break;
    }
    case 'jobs':
      state.jobs = new Map(JSON.parse(data).map((j) => [j.id, j]));
      emit('jobs', state.jobs);
      break;
    case 'job': {
      const j = JSON.parse(data);
      const before = state.jobs.get(j.id);
      state.jobs.set(j.id, j);
      emit('jobs', state.jobs);
      if (j.state === 'done' && (!before || before.state !== 'done')) emit('pins', {});
      break;
    }
    case 'pins':
      emit('pins', {});
      break;
    case 'groups':
      emit('groups', {});
      break;
    case 'uploads':
      state.uploads = JSON.parse(data);
      emit('uploads', state.uploads);
      break;
  }
}

/**
 * coalesced wraps an async redraw so that calls arriving while one runs
 * make one more run after it, not one each: a page redrawing on events
 * never has two requests for the same list in flight.
 */
export function coalesced(fn) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = Promise.resolve(fn()).finally(() => {
      running = null;
      if (again) {
        again = false;
        run();
      }
    });
    return running;
  };
  return run;
}

/** addJob records a job the page just started, before the stream echoes it. */
export function addJob(j) {
  if (!state.jobs.has(j.id)) {
    state.jobs.set(j.id, j);
    emit('jobs', state.jobs);
  }
}

/** setUploads records the uploads list an API call answered. */
export function setUploads(list) {
  state.uploads = list;
  emit('uploads', list);
}

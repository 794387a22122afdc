// live keeps the page up to date from the daemon's one event stream
// (GET /api/v1/events): stats every second, background job changes and pin
// changes. Nothing polls; pages subscribe to what they show.

import { prefix } from './api.js';

/** history is how many stats samples the rate chart keeps (two minutes). */
export const historyLength = 120;

const listeners = new Map(); // event name -> Set of functions
let source = null;

/** state is what the stream told so far. */
export const state = {
  connected: false,
  stats: null,
  history: [], // stats samples, oldest first
  jobs: new Map(), // id -> job
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

/** connect opens the stream; the browser reconnects by itself if it breaks. */
export function connect() {
  if (source) return;
  source = new EventSource(prefix + '/events');
  source.addEventListener('open', () => { state.connected = true; emit('connection', true); });
  source.addEventListener('error', () => { state.connected = false; emit('connection', false); });
  source.addEventListener('stats', (e) => {
    const s = JSON.parse(e.data);
    state.stats = s;
    state.history.push(s);
    if (state.history.length > historyLength) state.history.shift();
    emit('stats', s);
  });
  source.addEventListener('jobs', (e) => {
    state.jobs = new Map(JSON.parse(e.data).map((j) => [j.id, j]));
    emit('jobs', state.jobs);
  });
  source.addEventListener('job', (e) => {
    const j = JSON.parse(e.data);
    const before = state.jobs.get(j.id);
    state.jobs.set(j.id, j);
    emit('jobs', state.jobs);
    if (j.state === 'done' && (!before || before.state !== 'done')) emit('pins', {});
  });
  source.addEventListener('pins', () => emit('pins', {}));
}

/** addJob records a job the page just started, before the stream echoes it. */
export function addJob(j) {
  if (!state.jobs.has(j.id)) {
    state.jobs.set(j.id, j);
    emit('jobs', state.jobs);
  }
}

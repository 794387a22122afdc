// Uploads: who is downloading what from this node, beside the downloads
// on the Get page. The event stream sends the list every second while it
// is not empty (and once more, empty, when the last upload ends);
// GET /uploads covers the moment before the stream's first one.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { ago, bytes, rate, shortId } from './format.js';
import * as live from './live.js';

/**
 * uploadsSection returns the section (el) and stop, which ends its
 * updates when the page goes.
 */
export function uploadsSection() {
  const body = h('div', { id: 'uploads-served' });
  const el = h('section', { class: 'uploads-served', 'aria-labelledby': 'uploads-title' },
    h('h2', { id: 'uploads-title' }, 'Uploads'),
    h('p', { class: 'muted small' }, 'Peers downloading from this computer in the last minute.'),
    body);
  const draw = (list) => replace(body, list && list.length ? table(list) : h('p', { class: 'muted' }, 'No peer is downloading from you.'));
  draw(live.state.uploads);
  api('/uploads').then((list) => { if (!live.state.uploads) live.setUploads(list); }).catch(() => {});
  return { el, stop: live.on('uploads', draw) };
}

function table(list) {
  return h('table', { class: 'list' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Peer'),
      h('th', { scope: 'col' }, 'Content'),
      h('th', { scope: 'col', class: 'num' }, 'Sent'),
      h('th', { scope: 'col', class: 'num' }, 'Rate'),
      h('th', { scope: 'col' }, 'Since'))),
    h('tbody', {}, list.map((u) => h('tr', { dataset: { peer: u.peer, cid: u.cid || '' } },
      h('td', { class: 'peer' }, u.peer_name ? h('strong', {}, u.peer_name) : null, u.peer_name ? ' ' : null,
        h('code', { title: u.peer }, shortId(u.peer)),
        h('div', { class: 'muted small' }, [u.agent, u.protocols.join(', ')].filter(Boolean).join(' · '))),
      h('td', { class: 'content' }, content(u)),
      h('td', { class: 'num' }, bytes(u.bytes)),
      h('td', { class: 'num rate' }, u.finished
        ? h('span', { class: 'finished', title: 'Its download finished: it has all it asked for.' }, 'Finished')
        : rate(u.rate)),
      h('td', {}, ago(u.since))))));
}

function content(u) {
  if (!u.cid) {
    return h('span', { class: 'muted', title: 'Blocks asked for without their root: a resumed download, or one fetched from several peers at once.' },
      'Blocks (content not known)');
  }
  return [u.name ? h('div', {}, u.name) : null, h('code', { class: 'small', title: u.cid }, shortId(u.cid))];
}

/**
 * downloadersOf shows, under what was just added, who downloads it (cid,
 * of size bytes) from this computer, as kith send says it: how much each
 * peer has had, and that it has it all once its download finished (a kith
 * peer says so). A peer stays listed once seen, with how it ended. The
 * element keeps following the uploads for as long as the app runs, as
 * the Add page's rows do.
 */
export function downloadersOf(cid, size) {
  const seen = new Map(); // peer -> {u, gone}
  const el = h('ul', { class: 'downloaders small', 'aria-live': 'polite', 'aria-label': 'Who downloads it', dataset: { cid } });
  const draw = (list) => {
    const now = new Set();
    for (const u of list || []) {
      if (u.cid !== cid) continue;
      seen.set(u.peer, { u, gone: false });
      now.add(u.peer);
    }
    for (const [peer, s] of seen) if (!now.has(peer)) s.gone = true;
    if (!seen.size) return;
    replace(el, [...seen.values()].map(({ u, gone }) => h('li', { dataset: { peer: u.peer, finished: u.finished ? 'true' : 'false' } },
      u.peer_name ? h('strong', {}, u.peer_name) : h('code', { title: u.peer }, shortId(u.peer)),
      u.agent ? h('span', { class: 'muted' }, ` (${u.agent})`) : null,
      ' ', downloadState(u, size, gone))));
  };
  draw(live.state.uploads);
  live.on('uploads', draw);
  return el;
}

/** downloadState says how one peer's download of something of size bytes stands. */
function downloadState(u, size, gone) {
  const had = `${bytes(u.bytes)} of ${bytes(size)}`;
  if (u.finished) return u.bytes > 0 ? `has it all: its download finished (${bytes(u.bytes)} sent from here)` : 'has it all: its download finished';
  if (!gone && u.rate > 0) return `is downloading it: ${had}, ${rate(u.rate)}`;
  return `stopped asking, after ${had}: done, or paused`;
}

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

// Peers: who this node is connected to and how, one row per connection
// (a peer may have several: TCP and QUIC, or a relayed one besides).

import { api } from '../api.js';
import { h, copyButton, errorBox, replace, section } from '../dom.js';
import { bytes, shortId } from '../format.js';
import * as live from '../live.js';

export const title = 'Peers';

// refreshEvery keeps byte counts current while the page is open; the list
// also refreshes whenever the number of peers changes.
const refreshEvery = 5000;

export function render(main) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const addr = h('input', { id: 'connect-addr', type: 'text', required: true, spellcheck: 'false', autocomplete: 'off',
    placeholder: '/ip4/192.0.2.7/tcp/4101/p2p/12D3KooW…' });
  const form = h('form', { class: 'inline' },
    h('label', { for: 'connect-addr' }, 'Connect to a peer by address'), addr,
    h('button', { type: 'submit' }, 'Connect'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = 'Connecting…';
    try {
      const p = await api('/connect', { method: 'POST', params: { addr: addr.value.trim() } });
      status.textContent = `Connected to ${shortId(p.id)}.`;
      addr.value = '';
      load();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Peers'),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh')),
    body, section('Connect', form, status));

  let count = -1;
  const load = () => api('/peers')
    .then((conns) => {
      count = new Set(conns.map((c) => c.id)).size;
      replace(body, conns.length ? table(conns, count) : empty());
    })
    .catch((err) => replace(body, errorBox(err)));
  load();
  const off = live.on('stats', (s) => { if (s.peers !== count) load(); });
  const timer = setInterval(load, refreshEvery);
  return () => { off(); clearInterval(timer); };
}

function empty() {
  return h('div', { class: 'card empty' },
    h('p', {}, 'Not connected to any peer.'),
    h('p', {}, 'On the same network kith peers find each other by themselves; otherwise connect to a friend\'s address below.'));
}

// How a connection goes, by its kind: the badge, its colour, and what it
// means for transfers.
const kinds = {
  direct: ['Direct', 'ok', 'A direct connection: carries transfers.'],
  relayed: ['Relayed (carries transfers)', 'info', 'Through a group member\'s relay, which carries transfers.'],
  limited: ['Relayed (limited)', 'warn', 'Through a stranger\'s relay, capped in time and data: it is used to set up a direct connection (a hole punch) and carries no transfer.'],
};

function kindOf(c) {
  if (!c.relayed) return 'direct';
  return c.limited ? 'limited' : 'relayed';
}

function table(conns, peerCount) {
  // A peer's connections side by side, direct ones first.
  const order = { direct: 0, relayed: 1, limited: 2 };
  conns.sort((a, b) => a.id.localeCompare(b.id) || order[kindOf(a)] - order[kindOf(b)]);
  return h('div', {},
    h('p', { class: 'muted', id: 'peers-count' },
      `${peerCount} peer${peerCount === 1 ? '' : 's'}, ${conns.length} connection${conns.length === 1 ? '' : 's'}`),
    h('table', { class: 'list', id: 'peers' },
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Peer'),
        h('th', { scope: 'col' }, 'Connection'),
        h('th', { scope: 'col' }, 'Address'),
        h('th', { scope: 'col', class: 'num' }, 'Latency'),
        h('th', { scope: 'col', class: 'num' }, 'Received'),
        h('th', { scope: 'col', class: 'num' }, 'Sent'))),
      h('tbody', {}, conns.map((p) => {
        const kind = kindOf(p);
        const [label, badge, why] = kinds[kind];
        return h('tr', { dataset: { peer: p.id, kind } },
          h('td', { class: 'name peer' }, p.name ? h('strong', { class: 'member' }, p.name, ' ') : null,
            h('code', { title: p.id }, shortId(p.id)), ' ', copyButton(p.id),
            p.agent ? h('div', { class: 'muted small' }, p.agent) : null),
          h('td', {}, h('span', { class: 'badge ' + badge, title: why }, label),
            ' ', p.transport.toUpperCase(), ' · ', p.direction),
          h('td', { class: 'addr' }, h('code', {}, p.addr)),
          h('td', { class: 'num', 'data-label': 'Latency' }, p.latency_ms > 0 ? p.latency_ms.toFixed(1) + ' ms' : '–'),
          h('td', { class: 'num', 'data-label': 'Received' }, bytes(p.bytes_in)),
          h('td', { class: 'num', 'data-label': 'Sent' }, bytes(p.bytes_out)));
      }))));
}

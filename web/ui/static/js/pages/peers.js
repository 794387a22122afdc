// Peers: who this node is connected to and how.

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
    .then((peers) => { count = peers.length; replace(body, peers.length ? table(peers) : empty()); })
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

function table(peers) {
  return h('table', { class: 'list', id: 'peers' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Peer'),
      h('th', { scope: 'col' }, 'Connection'),
      h('th', { scope: 'col' }, 'Address'),
      h('th', { scope: 'col', class: 'num' }, 'Latency'),
      h('th', { scope: 'col', class: 'num' }, 'Received'),
      h('th', { scope: 'col', class: 'num' }, 'Sent'))),
    h('tbody', {}, peers.map((p) => h('tr', {},
      h('td', {}, h('code', { title: p.id }, shortId(p.id)), ' ', copyButton(p.id),
        p.agent ? h('div', { class: 'muted small' }, p.agent) : null),
      h('td', {}, h('span', { class: 'badge ' + (p.relayed ? 'warn' : 'ok') }, p.relayed ? 'Relayed' : 'Direct'),
        ' ', p.transport.toUpperCase(), ' · ', p.direction),
      h('td', { class: 'addr' }, h('code', {}, p.addr)),
      h('td', { class: 'num' }, p.latency_ms > 0 ? p.latency_ms.toFixed(1) + ' ms' : '–'),
      h('td', { class: 'num' }, bytes(p.bytes_in)),
      h('td', { class: 'num' }, bytes(p.bytes_out))))));
}

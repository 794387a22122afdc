// Overview: who this node is, how reachable it is, and what it is doing.

import { api } from '../api.js';
import { RateChart } from '../chart.js';
import { h, copyButton, errorBox, section, replace } from '../dom.js';
import { bytes, rate } from '../format.js';
import * as live from '../live.js';

export const title = 'Overview';

/** reachability turns what AutoNAT and the addresses say into a sentence. */
export function reachability(id) {
  if ((id.addresses || []).some((a) => a.includes('/p2p-circuit'))) {
    return ['Relayed', 'Peers reach this node through a relay; transfers work best once a direct connection is made.'];
  }
  switch (id.reachability) {
    case 'public': return ['Public', 'Peers can dial this node directly.'];
    case 'private': return ['Behind NAT', 'Peers cannot dial this node directly; it reaches them through relays and hole punching.'];
    default: return ['Unknown', 'Not determined yet (AutoNAT is off or still checking); peers on the same network can still connect.'];
  }
}

export function render(main) {
  const peersEl = h('strong', { id: 'stat-peers' }, '–');
  const diskEl = h('strong', { id: 'stat-disk' }, '–');
  const inEl = h('strong', { id: 'stat-in' }, '–');
  const outEl = h('strong', { id: 'stat-out' }, '–');
  const canvas = h('canvas', { class: 'chart', role: 'img', 'aria-label': 'Transfer rate chart' });
  const chart = new RateChart(canvas);
  const identity = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const repoEl = h('span', { class: 'muted' });

  replace(main,
    h('h1', {}, 'Overview'),
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, h('span', {}, 'Peers connected'), peersEl),
      h('div', { class: 'stat' }, h('span', {}, 'Storage used'), diskEl, repoEl),
      h('div', { class: 'stat' }, h('span', { class: 'in' }, 'Download'), inEl),
      h('div', { class: 'stat' }, h('span', { class: 'out' }, 'Upload'), outEl)),
    section('Transfer rate', canvas,
      h('p', { class: 'legend' }, h('span', { class: 'in' }, 'download'), ' ', h('span', { class: 'out' }, 'upload'), ' · last two minutes')),
    identity);

  const show = (s) => {
    if (!s) return;
    peersEl.textContent = s.peers;
    diskEl.textContent = bytes(s.disk_usage);
    inEl.textContent = rate(s.rate_in);
    outEl.textContent = rate(s.rate_out);
    chart.set(live.state.history);
  };
  show(live.state.stats);
  const off = live.on('stats', show);
  const onResize = () => chart.draw();
  window.addEventListener('resize', onResize);

  Promise.all([api('/id'), api('/repo/stat')]).then(([id, repo]) => {
    repoEl.textContent = `${repo.pins} pins, ${bytes(repo.bytes)} of content`;
    const [reach, why] = reachability(id);
    replace(identity,
      section('This node',
        h('dl', { class: 'facts' },
          h('dt', {}, 'Peer ID'),
          h('dd', {}, h('code', { id: 'peer-id', class: 'id' }, id.peer_id), ' ', copyButton(id.peer_id)),
          h('dt', {}, 'Reachability'),
          h('dd', {}, h('strong', { id: 'reachability' }, reach), ' — ', why),
          h('dt', {}, 'Version'),
          h('dd', {}, id.version),
          h('dt', {}, 'Repo'),
          h('dd', {}, h('code', {}, id.repo)))),
      section('Addresses',
        h('p', { class: 'muted' }, 'Give one of these to a friend for ', h('code', {}, 'kith connect'), '.'),
        (id.addresses || []).length === 0
          ? h('p', {}, 'This node announces no address yet.')
          : h('ul', { class: 'addrs' }, id.addresses.map((a) => {
            const full = a + '/p2p/' + id.peer_id;
            return h('li', {}, h('code', {}, full), ' ', copyButton(full));
          }))));
  }).catch((err) => replace(identity, errorBox(err)));

  return () => { off(); window.removeEventListener('resize', onResize); };
}

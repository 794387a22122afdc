// Overview: who this node is, how reachable it is, and what it is doing.

import { api } from '../api.js';
import { attentionPanel } from '../attention.js';
import { recentPanel } from '../changes.js';
import { RateChart } from '../chart.js';
import { h, copyButton, errorBox, section, replace } from '../dom.js';
import { bytes, plural, rate } from '../format.js';
import * as live from '../live.js';
import { networkPanel } from '../network.js';

export const title = 'Overview';

/** addrScope says who can dial an address of this node. */
function addrScope(id, full) {
  if ((id.share || []).includes(full)) return 'internet';
  if ((id.lan || []).includes(full)) return 'your network';
  return 'this computer';
}

export function render(main) {
  const peersEl = h('strong', { id: 'stat-peers' }, '–');
  const diskEl = h('strong', { id: 'stat-disk' }, '–');
  const inEl = h('strong', { id: 'stat-in' }, '–');
  const outEl = h('strong', { id: 'stat-out' }, '–');
  // The caps (fetch.download_limit, fetch.upload_limit), when set.
  const inCap = h('span', { id: 'stat-in-cap', class: 'muted' });
  const outCap = h('span', { id: 'stat-out-cap', class: 'muted' });
  const canvas = h('canvas', { class: 'chart', role: 'img', 'aria-label': 'Transfer rate chart' });
  const chart = new RateChart(canvas);
  const identity = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const repoEl = h('span', { id: 'stat-repo', class: 'muted' });
  const network = networkPanel();
  const attention = attentionPanel();
  const recent = recentPanel();

  replace(main,
    h('h1', {}, 'Overview'),
    h('div', { class: 'stats' },
      h('div', { class: 'stat' }, h('span', {}, 'Peers connected'), peersEl),
      h('div', { class: 'stat' }, h('span', {}, 'Storage used'), diskEl, repoEl),
      h('div', { class: 'stat' }, h('span', { class: 'in' }, 'Download'), inEl, inCap),
      h('div', { class: 'stat' }, h('span', { class: 'out' }, 'Upload'), outEl, outCap)),
    attention.el,
    network.el,
    recent.el,
    section('Transfer rate', canvas,
      h('p', { class: 'legend' }, h('span', { class: 'in' }, 'download'), ' ', h('span', { class: 'out' }, 'upload'), ' · last two minutes')),
    identity);

  const show = (s) => {
    if (!s) return;
    peersEl.textContent = s.peers;
    diskEl.textContent = bytes(s.disk_usage);
    inEl.textContent = rate(s.rate_in);
    outEl.textContent = rate(s.rate_out);
    inCap.textContent = s.download_limit > 0 ? `capped at ${rate(s.download_limit)}` : '';
    outCap.textContent = s.upload_limit > 0 ? `capped at ${rate(s.upload_limit)}` : '';
    chart.set(live.state.history);
  };
  show(live.state.stats);
  const off = live.on('stats', show);
  const onResize = () => chart.draw();
  window.addEventListener('resize', onResize);

  Promise.all([api('/id'), api('/repo/stat')]).then(([id, repo]) => {
    repoEl.textContent = `${plural(repo.pins, 'pin')}, ${bytes(repo.bytes)} of content`
      + (repo.cache > 0 ? ` (${bytes(repo.cache)} cached downloads, max ${bytes(repo.cache_max)})` : '')
      // Folders shared as they change, or that follow a share, are the
      // copy of their files: the repo reads them there.
      + (repo.in_files > 0 ? `, and ${bytes(repo.in_files)} read from shared folders, not copied` : '')
      + (repo.disk_free >= 0 ? ` · ${bytes(repo.disk_free)} free` : '');
    replace(identity,
      section('This node',
        h('dl', { class: 'facts' },
          h('dt', {}, 'Peer ID'),
          h('dd', {}, h('code', { id: 'peer-id', class: 'id' }, id.peer_id), ' ', copyButton(id.peer_id)),
          h('dt', {}, 'Version'),
          h('dd', {}, id.version),
          h('dt', {}, 'Repo'),
          h('dd', {}, h('code', {}, id.repo)))),
      section('Addresses',
        h('p', { class: 'muted' }, 'Give one of these to a friend for ', h('code', {}, 'kith connect'),
          '. To share a file, give its ticket instead (', h('a', { href: '#/files' }, 'Files'), ' → Share).'),
        (id.addresses || []).length === 0
          ? h('p', {}, 'This node announces no address yet.')
          : h('ul', { class: 'addrs' }, id.addresses.map((a) => {
            const full = a + '/p2p/' + id.peer_id;
            return h('li', {}, h('code', {}, full), ' ', h('span', { class: 'muted small' }, addrScope(id, full)), ' ', copyButton(full));
          }))));
  }).catch((err) => replace(identity, errorBox(err)));

  return () => { off(); network.stop(); attention.stop(); recent.stop(); window.removeEventListener('resize', onResize); };
}

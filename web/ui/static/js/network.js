// The Overview's Network panel: what GET /api/v1/doctor says about how this
// node stands on the network (reachability, NAT, hole punches, relays, the
// DHT) and its findings, each warning or failure with what to do. The
// doctor's answer changes slowly, so it is asked again every 12 seconds
// while the panel is shown, not on every stats tick.

import { api } from './api.js';
import { h, errorBox, replace, section } from './dom.js';
import { plural } from './format.js';

const refreshEvery = 12000;

/** relayCount counts the relays behind circuit addresses (…/p2p/RELAY/p2p-circuit…). */
function relayCount(circuits) {
  const ids = new Set(circuits.map((a) => {
    const m = a.split('/p2p-circuit')[0].match(/\/p2p\/([^/]+)$/);
    return m ? m[1] : a;
  }));
  return ids.size;
}

/** reachability says in plain words whether peers on the internet can reach this node. */
function reachability(d) {
  switch (d.reachability) {
    case 'public': return 'Reachable from the internet';
    case 'private': {
      const n = relayCount([...(d.relay_addrs || []), ...(d.group_relays || [])]);
      return n > 0 ? `Behind a NAT: reachable through ${plural(n, 'relay')}` : 'Behind a NAT: no relay yet';
    }
    case 'local': return 'This machine only';
    default: return 'Not known yet';
  }
}

// What each NAT type means for connecting to peers.
const natMeaning = {
  none: ['No NAT', 'peers see the address this node listens on.'],
  cone: ['Cone NAT', 'it keeps ports, so hole punching can connect peers behind NATs directly.'],
  symmetric: ['Symmetric NAT', 'a new port for each peer, so hole punching fails; transfers need a relay.'],
  unknown: ['Not known yet', 'peers on the internet have to report the address they see first.'],
};

function relays(d) {
  const strangers = relayCount(d.relay_addrs || []);
  const members = relayCount(d.group_relays || []);
  if (strangers + members === 0) return 'none';
  return [
    strangers ? `${plural(strangers, 'public relay')} (limited: for hole punching, no transfers)` : null,
    members ? `${plural(members, 'group relay')} (for group transfers)` : null,
  ].filter(Boolean).join(', ');
}

function dht(d) {
  return `${d.dht_protocol}, ${d.dht_server ? 'serving queries' : 'as a client'}: ${d.dht_wan_peers} WAN + ${d.dht_lan_peers} LAN peers; `
    + `${d.bootstrap_connected} of ${plural(d.bootstrap_peers, 'bootstrap peer')} connected`;
}

/**
 * portMapping splits the doctor's port-mapping line into what the router
 * forwards (or "none", "off") and the why: "tcp 1.2.3.4:5: the router
 * forwards them here" and "none (no router answered ...)" alike.
 */
function portMapping(s) {
  const colon = s.indexOf(': ');
  if (colon > 0) return [s.slice(0, colon), s.slice(colon + 2)];
  const paren = s.indexOf(' (');
  if (paren > 0 && s.endsWith(')')) return [s.slice(0, paren), s.slice(paren + 2, -1)];
  return [s, null];
}

const statusText = { ok: 'OK', warn: 'Warning', fail: 'Problem' };

function check(c) {
  return h('li', { class: 'check ' + c.status, dataset: { status: c.status } },
    h('span', { class: 'mark' }, statusText[c.status] || c.status),
    h('div', {}, h('span', { class: 'text' }, c.text),
      c.status !== 'ok' && c.fix ? h('p', { class: 'fix' }, 'What to do: ', c.fix) : null));
}

function facts(d) {
  const [nat, meaning] = natMeaning[d.nat] || natMeaning.unknown;
  const item = (id, term, main, detail) => [
    h('dt', {}, term),
    h('dd', { id }, h('span', { class: 'value' }, main), detail ? h('span', { class: 'muted small' }, ' — ', detail) : null)];
  // A daemon kept on this machine (--profile local) has no NAT, hole
  // punches or relays to speak of: only the rows that apply are shown.
  const local = d.reachability === 'local';
  return h('dl', { class: 'facts' },
    item('net-reach', 'Reachability', reachability(d), d.reachability_how),
    local ? null : item('net-nat', 'NAT', nat, meaning),
    local || !d.port_mapping ? null : item('net-portmap', 'Port mapping', ...portMapping(d.port_mapping)),
    local || !d.announced ? null : item('net-announce', 'Announced', d.announced, 'network.announce_addrs'),
    local || !d.ipv6 ? null : item('net-ipv6', 'IPv6', d.ipv6.split(',')[0], d.ipv6.slice(d.ipv6.indexOf(',') + 1).trim()),
    local ? null : item('net-punch', 'Hole punches',
      d.hole_punches ? `${d.hole_punches_ok} of ${d.hole_punches} made a direct connection` : 'none tried yet',
      d.last_hole_punch_error ? 'last failure: ' + d.last_hole_punch_error : null),
    local ? null : item('net-relays', 'Relays', relays(d), 'relaying for others: ' + d.relay_service),
    item('net-dht', 'DHT', dht(d)),
    d.routers ? item('net-routers', 'Routers', d.routers, 'asked who provides a CID, beside the DHT (dht.delegated_routers)') : null);
}

/**
 * networkPanel returns the panel's element and a stop function; it asks
 * the doctor now and every refreshEvery milliseconds until stopped
 * (skipping turns while the browser tab is hidden).
 */
export function networkPanel() {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const el = section('Network', body);
  el.id = 'network';
  let stopped = false;
  const load = () => api('/doctor')
    .then((d) => {
      if (stopped) return;
      replace(body, h('div', { class: 'network' },
        facts(d),
        h('ul', { class: 'checks', id: 'checks', 'aria-label': 'Findings' }, (d.checks || []).map(check))));
    })
    .catch((err) => { if (!stopped) replace(body, errorBox(err)); });
  load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, refreshEvery);
  return { el, stop: () => { stopped = true; clearInterval(timer); } };
}

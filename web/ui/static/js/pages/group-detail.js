// One group on the Groups page: its members as this node sees them,
// removing one (after a confirm step), sharing a folder of this computer
// in it (and the folders it follows), following one of its shares into a
// folder of this computer, inviting another device, and leaving it (after
// a confirm step).

import { api } from '../api.js';
import { h, copyButton, errorBox, replace, section } from '../dom.js';
import { ago, bytes, date, shortId } from '../format.js';
import { folderShareBox } from '../foldershare.js';
import { mirrorBox } from '../mirrorbox.js';
import * as live from '../live.js';

// refreshEvery keeps health and "last seen" current while the group is shown.
const refreshEvery = 5000;

const healthBadge = { alive: 'ok', offline: 'info', suspect: 'warn', gone: 'bad' };

/** renderDetail fills el with group g; it returns a cleanup. */
export function renderDetail(el, g, status, onLeft) {
  const members = h('div', {}, h('p', { class: 'muted' }, 'Loading members…'));
  const folders = folderShareBox(g, { onChange: () => load() });
  const mirrors = mirrorBox(g);
  replace(el, section(`Members of ${g.name}`,
    h('p', { class: 'muted small' }, 'Group ID ', h('code', { title: g.id }, shortId(g.id)), ' ', copyButton(g.id)),
    h('p', {}, h('a', { href: '#/files?group=' + encodeURIComponent(g.name), id: 'group-files' }, `Files shared in ${g.name}`),
      h('span', { class: 'muted' }, ', held here or not: they open from the members who hold them.')),
    members,
    inviteControl(g),
    leaveControl(g, status, onLeft)),
    section(`Share a folder of this computer in ${g.name}`, folders.el),
    section(`Follow a share of ${g.name} into a folder of this computer`, mirrors.el));
  // A row asking to confirm a removal is not redrawn under the user.
  let confirming = false;
  const load = live.coalesced(() => confirming ? Promise.resolve() : api('/groups/members', { params: { group: g.id } })
    .then((ms) => replace(members, table(ms, removeControl)))
    .catch((err) => replace(members, errorBox(err))));
  // removeControl is a member's Remove button, confirmed in place.
  function removeControl(m) {
    const box = h('div', { class: 'actions remove' });
    const idle = () => { confirming = false; replace(box, h('button', { type: 'button', class: 'danger', dataset: { action: 'remove' }, onclick: ask }, 'Remove…')); };
    const ask = () => {
      confirming = true;
      const yes = h('button', { type: 'button', class: 'danger', id: 'remove-confirm', onclick: remove }, `Remove ${m.name || shortId(m.peer)}`);
      replace(box,
        h('p', { class: 'warning', role: 'alert' },
          `Remove ${m.name || shortId(m.peer)} from ${g.name}? Its copies are placed on other members, and it cannot join again with an old invite.`),
        h('div', { class: 'actions' }, yes, h('button', { type: 'button', onclick: idle }, 'Cancel')));
      yes.focus();
    };
    async function remove() {
      status.textContent = `Removing ${m.name || shortId(m.peer)}…`;
      try {
        await api('/groups/remove', { method: 'POST', params: { group: g.id, member: m.peer } });
        status.textContent = `Removed ${m.name || shortId(m.peer)} from ${g.name}.`;
      } catch (err) {
        status.textContent = err.message;
      }
      idle();
      load();
    }
    idle();
    return box;
  }
  load();
  // Heartbeats that change what a member holds or whether it is there
  // come as "groups" events; "last seen" and a silence turning a member
  // suspect come with time, hence the timer too.
  // A followed folder shared again, or gone, shows the same way.
  const refresh = () => { load(); folders.refresh(); mirrors.refresh(); };
  const off = live.on('groups', refresh);
  const timer = setInterval(refresh, refreshEvery);
  return () => { off(); clearInterval(timer); };
}

function table(ms, removeControl) {
  if (!ms.length) return h('p', { class: 'muted' }, 'No members known yet.');
  return h('table', { class: 'list', id: 'members' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Member'),
      h('th', { scope: 'col' }, 'Health'),
      h('th', { scope: 'col' }, 'Last seen'),
      h('th', { scope: 'col', class: 'num' }, 'Space offered'),
      h('th', { scope: 'col', class: 'num' }, 'Used'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, ms.map((m) => h('tr', { dataset: { peer: m.peer, health: m.health } },
      h('td', { class: 'name' }, m.name || '(no name)', m.self ? h('span', { class: 'muted' }, ' (this device)') : null,
        h('div', { class: 'muted small' }, h('code', { title: m.peer }, shortId(m.peer)))),
      h('td', { class: 'fact' }, h('span', { class: 'badge ' + (healthBadge[m.health] || 'info') }, m.health)),
      h('td', { class: 'fact', title: m.last_seen, 'data-label': 'Last seen' }, m.self ? 'now' : ago(m.last_seen)),
      h('td', { class: 'num', 'data-label': 'Space offered' }, m.budget > 0 ? bytes(m.budget) : 'none'),
      h('td', { class: 'num', 'data-label': 'Used' }, bytes(m.used) + (m.held ? ` · ${m.held} ${m.held === 1 ? 'root' : 'roots'}` : '')),
      h('td', { class: 'actions-cell' }, m.self ? null : removeControl(m))))));
}

// inviteControl makes a new invite token for another device: good for 7
// days, for any number of devices or (checked) one.
function inviteControl(g) {
  const single = h('input', { type: 'checkbox', id: 'invite-single' });
  const out = h('div', {});
  const btn = h('button', { type: 'button', id: 'new-invite', onclick: make }, 'Invite another device');
  async function make() {
    btn.disabled = true;
    try {
      const inv = await api('/groups/invite', { method: 'POST', params: { group: g.id, uses: single.checked ? '1' : '0' } });
      replace(out, inviteBox(inv));
    } catch (err) {
      replace(out, errorBox(err));
    }
    btn.disabled = false;
  }
  return h('div', { class: 'invite-new' },
    h('div', { class: 'actions' }, btn, h('label', { for: 'invite-single' }, single, ' for one device only')),
    out);
}

/** inviteBox shows a new invite token: what it allows, how to pass it on. */
export function inviteBox(inv) {
  const token = h('input', { id: 'invite-token', type: 'text', readonly: true, value: inv.token, spellcheck: 'false',
    'aria-label': 'Invite token for ' + inv.name, onfocus: (e) => e.target.select() });
  const i = inv.invite || {};
  const who = i.uses > 0 ? (i.uses === 1 ? 'one device' : `${i.uses} devices`) : 'any number of devices';
  return h('div', { class: 'invite' },
    h('p', { class: 'warning', role: 'note' },
      'This token is a password: whoever has it can join ', h('strong', {}, inv.name), ' and read what it shares.'),
    h('div', { class: 'token-row' }, token, copyButton(inv.token, 'Copy', token)),
    h('p', { class: 'muted small', id: 'invite-terms' },
      `It admits ${who} until ${i.expires ? date(i.expires) : 'it expires'}, while this device is online. `,
      'On your other device, open Groups and paste it under “Join a group”, or run ',
      h('code', {}, 'kith group join -'), '.'));
}

// leaveControl is a Leave button that asks for confirmation in place.
function leaveControl(g, status, onLeft) {
  const box = h('div', { class: 'leave' });
  const ask = async () => {
    // The folders that follow, sync with or are shared in the group stop:
    // named here, before they are gone from the lists.
    let folders = [];
    try {
      const [ms, ws] = await Promise.all([api('/groups/mirrors'), api('/groups/watches')]);
      folders = [...new Set([...ms, ...ws].filter((f) => f.group === g.name).map((f) => f.path))];
    } catch (_) { /* the question stands without them */ }
    const confirmBtn = h('button', { type: 'button', class: 'danger', id: 'leave-confirm', onclick: leave }, `Leave ${g.name}`);
    replace(box,
      h('p', { class: 'warning', role: 'alert' },
        `Leave ${g.name}? This node stops keeping copies for the group and drops its replicas. Your own pins stay.`
        + (folders.length ? ` ${folders.length === 1 ? 'This folder stops' : 'These folders stop'} following it, and ${folders.length === 1 ? 'stays' : 'stay'} as ${folders.length === 1 ? 'it is' : 'they are'}: ${folders.join(', ')}.` : '')),
      h('div', { class: 'actions' }, confirmBtn,
        h('button', { type: 'button', onclick: idle }, 'Cancel')));
    confirmBtn.focus();
  };
  const idle = () => replace(box,
    h('button', { type: 'button', class: 'danger', id: 'leave-group', onclick: ask }, 'Leave group…'));
  async function leave() {
    status.textContent = `Leaving ${g.name}…`;
    try {
      await api('/groups/leave', { method: 'POST', params: { group: g.id } });
      status.textContent = `Left ${g.name}.`;
      onLeft();
    } catch (err) {
      status.textContent = err.message;
      idle();
    }
  }
  idle();
  return box;
}

// One group on the Groups page: its members as this node sees them, and
// leaving it (after a confirm step).

import { api } from '../api.js';
import { h, copyButton, errorBox, replace, section } from '../dom.js';
import { ago, bytes, shortId } from '../format.js';

// refreshEvery keeps health and "last seen" current while the group is shown.
const refreshEvery = 5000;

const healthBadge = { alive: 'ok', suspect: 'warn', gone: 'bad' };

/** renderDetail fills el with group g; it returns a cleanup. */
export function renderDetail(el, g, status, onLeft) {
  const members = h('div', {}, h('p', { class: 'muted' }, 'Loading members…'));
  replace(el, section(`Members of ${g.name}`,
    h('p', { class: 'muted small' }, 'Group ID ', h('code', { title: g.id }, shortId(g.id)), ' ', copyButton(g.id)),
    h('p', {}, h('a', { href: '#/files?group=' + encodeURIComponent(g.name), id: 'group-files' }, `Files shared in ${g.name}`),
      h('span', { class: 'muted' }, ', held here or not: they open from the members who hold them.')),
    members,
    leaveControl(g, status, onLeft)));
  const load = () => api('/groups/members', { params: { group: g.id } })
    .then((ms) => replace(members, table(ms)))
    .catch((err) => replace(members, errorBox(err)));
  load();
  const timer = setInterval(load, refreshEvery);
  return () => clearInterval(timer);
}

function table(ms) {
  if (!ms.length) return h('p', { class: 'muted' }, 'No members known yet.');
  return h('table', { class: 'list', id: 'members' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Member'),
      h('th', { scope: 'col' }, 'Health'),
      h('th', { scope: 'col' }, 'Last seen'),
      h('th', { scope: 'col', class: 'num' }, 'Space offered'),
      h('th', { scope: 'col', class: 'num' }, 'Used'))),
    h('tbody', {}, ms.map((m) => h('tr', { dataset: { peer: m.peer, health: m.health } },
      h('td', { class: 'name' }, m.name || '(no name)', m.self ? h('span', { class: 'muted' }, ' (this node)') : null,
        h('div', { class: 'muted small' }, h('code', { title: m.peer }, shortId(m.peer)))),
      h('td', { class: 'fact' }, h('span', { class: 'badge ' + (healthBadge[m.health] || 'info') }, m.health)),
      h('td', { class: 'fact', title: m.last_seen, 'data-label': 'Last seen' }, m.self ? 'now' : ago(m.last_seen)),
      h('td', { class: 'num', 'data-label': 'Space offered' }, m.budget > 0 ? bytes(m.budget) : 'none'),
      h('td', { class: 'num', 'data-label': 'Used' }, bytes(m.used) + (m.held ? ` · ${m.held} ${m.held === 1 ? 'root' : 'roots'}` : ''))))));
}

// leaveControl is a Leave button that asks for confirmation in place.
function leaveControl(g, status, onLeft) {
  const box = h('div', { class: 'leave' });
  const ask = () => {
    const confirmBtn = h('button', { type: 'button', class: 'danger', id: 'leave-confirm', onclick: leave }, `Leave ${g.name}`);
    replace(box,
      h('p', { class: 'warning', role: 'alert' },
        `Leave ${g.name}? This node stops keeping copies for the group and drops its replicas. Your own pins stay.`),
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

// Groups: the groups this node is in (members that keep N copies of what a
// member shares), creating one with its invite token, joining one from a
// token, and a selected group's members (group-detail.js).

import { api } from '../api.js';
import { h, errorBox, replace, section } from '../dom.js';
import { bytes } from '../format.js';
import * as live from '../live.js';
import { inviteBox, renderDetail } from './group-detail.js';

export const title = 'Groups';

export function render(main, selected) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const detail = h('div', { id: 'group-detail' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  replace(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Groups'),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh')),
    status, body, detail,
    h('div', { class: 'group-forms' }, createForm(() => load()), joinForm(() => load())));

  let stopDetail = null;
  let shown = null; // the selected group's ID while its detail is shown
  // load draws the list, and the selected group's detail unless keep is
  // set and the same group is still selected: a group change keeps an
  // invite token on show or a confirm step (the detail follows its
  // members by itself).
  const load = (keep = false) => api('/groups/ls')
    .then((groups) => {
      replace(body, groups.length ? table(groups, selected) : empty());
      const g = groups.find((x) => x.id === selected || x.name === selected);
      if (keep && (g ? g.id : null) === shown) return;
      if (stopDetail) stopDetail();
      stopDetail = null;
      shown = g ? g.id : null;
      if (g) stopDetail = renderDetail(detail, g, status, () => { location.hash = '#/groups'; });
      else replace(detail, selected ? h('p', { class: 'muted' }, 'You are not in that group.') : null);
    })
    .catch((err) => replace(body, errorBox(err)));
  load();
  const off = live.on('groups', () => load(true));
  return () => { off(); if (stopDetail) stopDetail(); };
}

function empty() {
  return h('div', { class: 'card empty', id: 'groups-empty' },
    h('p', {}, 'You are not in any group yet.'),
    h('p', {}, 'Create one below and join it from your other devices with its invite token, ',
      'or paste a token you were given. A group keeps the number of copies you ask for of what its members share.'));
}

function table(groups, selected) {
  return h('table', { class: 'list', id: 'groups' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'),
      h('th', { scope: 'col', class: 'num' }, 'Members'),
      h('th', { scope: 'col', class: 'num' }, 'Shared'),
      h('th', { scope: 'col', class: 'num' }, 'Replicas here'),
      h('th', { scope: 'col', class: 'num' }, 'Budget'))),
    h('tbody', {}, groups.map((g) => {
      const current = g.id === selected || g.name === selected;
      return h('tr', { dataset: { group: g.id }, class: current ? 'selected' : null },
        h('td', { class: 'name' },
          h('a', { href: '#/groups/' + encodeURIComponent(g.id), 'aria-current': current ? 'true' : null }, g.name),
          g.removed ? h('div', { class: 'warning small removed' }, `This device was ${g.removed}. Open it and leave it to clear this.`) : null),
        h('td', { class: 'num members', 'data-label': 'Members' }, String(g.members)),
        h('td', { class: 'num', 'data-label': 'Shared' }, String(g.intents)),
        h('td', { class: 'num', 'data-label': 'Replicas here' }, `${g.replicas} (${bytes(g.replica_bytes)})`),
        h('td', { class: 'num', 'data-label': 'Budget' }, g.budget > 0 ? bytes(g.budget) : '–'));
    })));
}

/**
 * formStatus is the line under a form that says how its request goes: a
 * failure shows there, next to the box it concerns, not at the top of the
 * page. field is the input it describes.
 */
function formStatus(id, field) {
  const el = h('p', { class: 'status', id, role: 'status', 'aria-live': 'polite' });
  field.setAttribute('aria-describedby', id);
  const say = (text, failed = false) => {
    el.textContent = text;
    el.classList.toggle('error', failed);
    if (failed) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
  };
  return { el, say };
}

function createForm(reload) {
  const name = h('input', { id: 'group-name', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
    maxlength: 64, placeholder: 'family' });
  const status = formStatus('create-status', name);
  const invite = h('div', { id: 'invite', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline', id: 'create-form' },
    h('label', { for: 'group-name' }, 'Name of the new group'), name,
    h('button', { type: 'submit', class: 'primary' }, 'Create'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.say('Creating…');
    replace(invite);
    try {
      const inv = await api('/groups/create', { method: 'POST', params: { group: name.value.trim() } });
      status.say(`Created ${inv.name}.`);
      name.value = '';
      replace(invite, inviteBox(inv));
      reload();
    } catch (err) {
      status.say(err.message, true);
    }
  });
  return section('Create a group', form, status.el, invite);
}

function joinForm(reload) {
  const token = h('textarea', { id: 'join-token', required: true, rows: 3, spellcheck: 'false', autocomplete: 'off',
    placeholder: 'Paste an invite token' });
  const status = formStatus('join-status', token);
  const form = h('form', { class: 'inline', id: 'join-form' },
    h('label', { for: 'join-token' }, 'Invite token'), token,
    h('button', { type: 'submit' }, 'Join'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = token.value.trim();
    if (!t) return;
    status.say('Joining… (reaching the group’s members can take a few seconds)');
    try {
      const g = await api('/groups/join', { method: 'POST', body: t });
      token.value = '';
      status.say(`Joined ${g.name}.`);
      const next = '#/groups/' + encodeURIComponent(g.id);
      if (location.hash === next) reload();
      else location.hash = next; // renders the page again, with the group selected
    } catch (err) {
      status.say(err.message, true);
    }
  });
  return section('Join a group', form, status.el);
}

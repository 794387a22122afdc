// Files: everything pinned, with open, download, share (a ticket, whether
// it is announced in the DHT, and copies kept in a group) and unpin; and everything shared in your groups
// that this node does not hold, which opens and downloads straight from
// the members who do (streamed through the gateway, nothing copied here)
// or can be kept here.
// #/files?group=NAME shows one group's library, held here or not.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, errorBox, replace } from '../dom.js';
import { bytes, date, shortId } from '../format.js';
import * as live from '../live.js';
import * as replication from '../replication.js';
import { groupShareBox } from '../groupshare.js';
import { longList } from '../longlist.js';
import { nameBox } from '../namebox.js';
import { privacyBox } from '../privacy.js';
import { closeCodes, ticketBox } from '../ticket.js';

export const title = 'Files';

// refreshEvery is how often replication still in progress is asked again.
const refreshEvery = 5000;

export function render(main, _arg, query) {
  const group = query.get('group') || '';
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const picker = h('div', { class: 'group-pick' });
  const pins = longList({ id: 'files', placeholder: 'Filter by name or CID', text: (p) => (p.name || '') + ' ' + p.cid,
    draw: (shown) => table(shown, { unpin, share, keep }), empty: () => empty(group), onDraw: drawn });
  replace(pins.list, h('p', { class: 'muted' }, 'Loading…'));
  replace(main,
    h('div', { class: 'page-head' },
      h('h1', {}, group ? `Files shared in ${group}` : 'Files'),
      h('a', { class: 'button', href: '#/add' }, 'Add files')),
    picker, pins.filter, status, pins.list);

  // While a shared root's copies are still being placed (or are too few),
  // the list is asked again every few seconds: what changes with time
  // alone (a holder silent for too long) shows without a reload.
  let moving = false;
  // The rows by CID, indexed once per drawing: looking each up in the
  // page would cost the whole list per row (seconds for thousands).
  let rowIndex = new Map();
  const rowOf = (cid) => rowIndex.get(cid) || null;
  const cellOf = (cid) => { const row = rowIndex.get(cid); return row ? row.querySelector('td.replication') : null; };
  // Tickets shown under their pins, by CID: kept when the list reloads.
  const tickets = new Map();
  let statuses = null;
  const load = live.coalesced(() => Promise.all([api('/pin/ls'), api('/groups/status/all').catch(() => null)])
    .then(([ps, sts]) => {
      statuses = sts;
      const shared = sts || [];
      replace(picker, groupPicker(shared, group));
      pins.set(listing(ps.reverse(), shared, group));
    })
    .catch((err) => replace(pins.list, errorBox(err))));

  // drawn indexes the rows drawn, puts back the tickets shown under them
  // and fills in their replication.
  function drawn(shown) {
    rowIndex = new Map([...pins.list.querySelectorAll('tr[data-cid]')].map((tr) => [tr.dataset.cid, tr]));
    for (const [cid, tr] of tickets) {
      const row = rowOf(cid);
      if (row) placeTicket(row, tr);
      else {
        closeCodes(tr); // its pin is gone
        tickets.delete(cid);
      }
    }
    moving = replication.fill(shown, cellOf, statuses);
  }

  // share shows, in a row under the pin, its ticket and its shares in
  // your groups (with the form to share it in one), or hides them again.
  async function share(pin) {
    const row = rowOf(pin.cid);
    if (tickets.has(pin.cid)) {
      closeCodes(tickets.get(pin.cid));
      tickets.get(pin.cid).remove();
      tickets.delete(pin.cid);
      row.querySelector('[data-action="share"]').setAttribute('aria-expanded', 'false');
      return;
    }
    const slot = h('div', {}, h('p', { class: 'muted' }, 'Making a ticket…'));
    const cell = h('td', { colspan: 6 }, slot, privacyBox(pin, load), pin.replica ? null : nameBox(pin), groupShareBox(pin.cid, pin.name, { onChange: load }));
    const tr = h('tr', { class: 'ticket-row', dataset: { ticketFor: pin.cid } }, cell);
    tickets.set(pin.cid, tr);
    placeTicket(row, tr);
    try {
      const t = await api('/ticket', { params: { cid: pin.cid } });
      replace(slot, ticketBox(t.ticket, t.reachable, pin.cid));
    } catch (err) {
      replace(slot, errorBox(err));
    }
  }

  async function unpin(pin) {
    const label = pin.name || pin.cid;
    const kept = keepers(pin);
    const after = kept.length
      ? `${kept.join(', ')} still ${kept.length > 1 ? 'keep' : 'keeps'} a copy here until no longer needed.`
      : 'Its blocks are removed at the next garbage collection.';
    if (!window.confirm(`Unpin ${label}? ${after}`)) return;
    try {
      await api('/pin/rm', { method: 'POST', params: { cid: pin.cid } });
      status.textContent = kept.length ? `Unpinned ${label}; ${after}` : `Unpinned ${label}.`;
      load();
    } catch (err) {
      status.textContent = err.message;
    }
  }

  // keep copies a group's item here, or adds the user's own pin to a copy
  // a group placed here (the group's stays beside it): a background fetch
  // that pins it. For a replica the blocks are here: the page says so once
  // the job has pinned it (or why it could not), not when it started.
  let stopWatch = () => {};
  async function keep(item) {
    const label = item.name || item.cid;
    try {
      const job = await api('/jobs/fetch', { method: 'POST', params: { cid: item.cid, name: item.name } });
      if (!item.replica) {
        status.textContent = `Keeping a copy of ${label} here: see Get for progress.`;
        return;
      }
      status.textContent = `Pinning ${label} as yours…`;
      live.addJob(job);
      stopWatch();
      stopWatch = whenEnded(job.id, (j) => {
        status.textContent = j.state === 'done'
          ? `${label} is now pinned by you too: it stays here whatever the group does.`
          : `Could not pin ${label}: ${j.reason || j.error || j.state}`;
      });
    } catch (err) {
      status.textContent = err.message;
    }
  }

  load();
  // A group's change (a share by another member, a copy placed or
  // released here or elsewhere) redraws the list, as a pin change does.
  const offPins = live.on('pins', load);
  const offGroups = live.on('groups', load);
  const timer = setInterval(() => { if (moving && !document.hidden) load(); }, refreshEvery);
  return () => { offPins(); offGroups(); stopWatch(); clearInterval(timer); pins.stop(); };
}

/** whenEnded calls fn once with the job id names when it has ended; it returns an unsubscribe. */
function whenEnded(id, fn) {
  const check = (jobs) => {
    const j = jobs.get(id);
    if (!j || j.state === 'running' || j.state === 'paused') return;
    off();
    fn(j);
  };
  const off = live.on('jobs', check);
  check(live.state.jobs);
  return off;
}

/**
 * listing merges pins with the roots shared in groups: every pin (or, for
 * one group, its roots that are pinned here), then the shared roots this
 * node does not hold, marked remote.
 */
function listing(pins, shared, group) {
  const inGroup = new Set(shared.filter((st) => st.group === group).map((st) => st.cid));
  const here = new Set(pins.map((p) => p.cid));
  const rows = group ? pins.filter((p) => inGroup.has(p.cid)) : [...pins];
  const seen = new Set(rows.map((p) => p.cid));
  for (const st of shared) {
    if (here.has(st.cid) || seen.has(st.cid) || (group && st.group !== group)) continue;
    seen.add(st.cid);
    rows.push({ cid: st.cid, name: st.name, size: st.size, remote: true, shared: st.created, group: st.group });
  }
  return rows;
}

/** groupPicker switches between all files and one group's library. */
function groupPicker(shared, group) {
  const names = [...new Set(shared.map((st) => st.group))].sort();
  if (group && !names.includes(group)) names.push(group);
  if (!names.length) return null;
  const select = h('select', { id: 'group-filter', onchange: (e) => {
    location.hash = '#/files' + (e.target.value ? '?group=' + encodeURIComponent(e.target.value) : '');
  } },
  h('option', { value: '' }, 'All files'),
  names.map((n) => h('option', { value: n, selected: n === group }, 'Shared in ' + n)));
  return h('label', { class: 'inline' }, 'Show ', select);
}

/** keepers are the groups that keep a copy of a pinned root here. */
function keepers(p) {
  if (p.groups && p.groups.length) return p.groups;
  return p.group ? [p.group] : [];
}

function placeTicket(row, tr) {
  row.after(tr);
  row.querySelector('[data-action="share"]').setAttribute('aria-expanded', 'true');
}

function empty(group) {
  if (group) return h('div', { class: 'card empty' }, h('p', {}, `Nothing is shared in ${group} yet.`));
  return h('div', { class: 'card empty' },
    h('p', {}, 'Nothing is pinned yet.'),
    h('p', {}, h('a', { href: '#/add' }, 'Add files or a folder'), ' from this computer, or ',
      h('a', { href: '#/get' }, 'get a CID or ticket'), ' from a peer.'));
}

function table(rows, { unpin, share, keep }) {
  return h('table', { class: 'list', id: 'pins' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'),
      h('th', { scope: 'col', class: 'num' }, 'Size'),
      h('th', { scope: 'col' }, 'CID'),
      h('th', { scope: 'col' }, 'Added'),
      h('th', { scope: 'col' }, 'Replication'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, rows.map((p) => {
      const name = p.name || '(no name)';
      const openHref = '#/open/' + encodeURIComponent(p.cid) + (p.name ? '?name=' + encodeURIComponent(p.name) : '');
      const actions = [
        h('a', { class: 'button small', href: openHref, dataset: { action: 'open' } }, 'Open'),
        h('a', { class: 'button small', href: gatewayURL(p.cid, { name: p.name, download: true }), download: p.name || p.cid }, 'Download'),
      ];
      if (p.remote) {
        actions.push(h('button', { type: 'button', class: 'small', dataset: { action: 'keep' },
          title: 'Fetch a copy and pin it here', onclick: () => keep(p) }, 'Keep here'));
      } else if (p.replica) {
        // A copy the group placed here: the group releases it when it is
        // no longer needed; keeping it makes it an ordinary pin of yours.
        actions.push(
          h('button', { type: 'button', class: 'small', dataset: { action: 'share' }, 'aria-expanded': 'false',
            title: 'A ticket a friend can get this with, and keeping copies in your groups', onclick: () => share(p) }, 'Share'),
          h('button', { type: 'button', class: 'small', dataset: { action: 'keep-mine' },
            title: `${p.group || 'The group'} placed this copy here and may move it; keep it as your own pin`,
            onclick: () => keep(p) }, 'Keep a copy for me'));
      } else {
        actions.push(
          h('button', { type: 'button', class: 'small', dataset: { action: 'share' }, 'aria-expanded': 'false',
            title: 'A ticket a friend can get this with, and keeping copies in your groups', onclick: () => share(p) }, 'Share'),
          h('button', { type: 'button', class: 'small danger', onclick: () => unpin(p) }, 'Unpin'));
      }
      return h('tr', { dataset: { cid: p.cid, here: p.remote ? 'no' : 'yes' } },
        h('td', { class: 'name' }, h('a', { href: openHref }, name),
          p.remote ? h('div', { class: 'muted small' }, 'Not on this computer: opens from the members who hold it') : null,
          p.replica ? h('div', { class: 'muted small replica' }, `${keepers(p).join(', ')} · replica${p.releasing ? ', no longer shared: released soon' : ''}`) : null,
          !p.replica && !p.remote && keepers(p).length
            ? h('div', { class: 'muted small kept-for' }, `also kept for ${keepers(p).join(', ')}`) : null,
          p.private ? h('div', { class: 'muted small private', title: 'Not announced in the public DHT: found through its ticket and your groups' }, 'private') : null),
        h('td', { class: 'num' }, bytes(p.size)),
        h('td', { class: 'id cid', 'data-label': 'CID' }, h('code', { class: 'cid', title: p.cid }, shortId(p.cid)), ' ', copyButton(p.cid)),
        // Held elsewhere: when its group shared it (pins: when added here).
        p.remote
          ? h('td', { class: 'fact added', 'data-label': 'Shared', title: `shared in ${p.group}` }, date(p.shared))
          : h('td', { class: 'fact added', 'data-label': 'Added' }, date(p.created)),
        h('td', { class: 'replication' }, p.replication || (p.remote ? 'not here' : 'local only')),
        h('td', { class: 'actions' }, actions));
    })));
}

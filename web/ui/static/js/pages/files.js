// Files: everything pinned, with open, download, share (a ticket) and unpin.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, errorBox, replace } from '../dom.js';
import { bytes, date, shortId } from '../format.js';
import * as live from '../live.js';
import { tracker } from '../replication.js';
import { ticketBox } from '../ticket.js';

export const title = 'Files';

export function render(main) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  replace(main,
    h('div', { class: 'page-head' },
      h('h1', {}, 'Files'),
      h('a', { class: 'button', href: '#/add' }, 'Add files')),
    status, body);

  const replication = tracker();
  const rowOf = (cid) => body.querySelector(`tr[data-cid="${CSS.escape(cid)}"]`);
  const cellOf = (cid) => body.querySelector(`tr[data-cid="${CSS.escape(cid)}"] td.replication`);
  // Tickets shown under their pins, by CID: kept when the list reloads.
  const tickets = new Map();
  const load = () => api('/pin/ls')
    .then((pins) => {
      replace(body, pins.length === 0 ? empty() : table(pins.reverse(), unpin, share));
      for (const [cid, tr] of tickets) {
        const row = rowOf(cid);
        if (row) placeTicket(row, tr);
        else tickets.delete(cid);
      }
      return replication.fill(pins, cellOf);
    })
    .catch((err) => replace(body, errorBox(err)));

  // share shows the pin's ticket in a row under it, or hides it again.
  async function share(pin) {
    const row = rowOf(pin.cid);
    if (tickets.has(pin.cid)) {
      tickets.get(pin.cid).remove();
      tickets.delete(pin.cid);
      row.querySelector('[data-action="share"]').setAttribute('aria-expanded', 'false');
      return;
    }
    const cell = h('td', { colspan: 6 }, h('p', { class: 'muted' }, 'Making a ticket…'));
    const tr = h('tr', { class: 'ticket-row', dataset: { ticketFor: pin.cid } }, cell);
    tickets.set(pin.cid, tr);
    placeTicket(row, tr);
    try {
      const t = await api('/ticket', { params: { cid: pin.cid } });
      replace(cell, ticketBox(t.ticket, t.reachable));
    } catch (err) {
      replace(cell, errorBox(err));
    }
  }

  async function unpin(pin) {
    const label = pin.name || pin.cid;
    if (!window.confirm(`Unpin ${label}? Its blocks are removed at the next garbage collection.`)) return;
    try {
      await api('/pin/rm', { method: 'POST', params: { cid: pin.cid } });
      status.textContent = `Unpinned ${label}.`;
      load();
    } catch (err) {
      status.textContent = err.message;
    }
  }

  load();
  return live.on('pins', load);
}

function placeTicket(row, tr) {
  row.after(tr);
  row.querySelector('[data-action="share"]').setAttribute('aria-expanded', 'true');
}

function empty() {
  return h('div', { class: 'card empty' },
    h('p', {}, 'Nothing is pinned yet.'),
    h('p', {}, h('a', { href: '#/add' }, 'Add files or a folder'), ' from this computer, or ',
      h('a', { href: '#/get' }, 'get a CID or ticket'), ' from a peer.'));
}

function table(pins, unpin, share) {
  return h('table', { class: 'list', id: 'pins' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'),
      h('th', { scope: 'col', class: 'num' }, 'Size'),
      h('th', { scope: 'col' }, 'CID'),
      h('th', { scope: 'col' }, 'Added'),
      h('th', { scope: 'col' }, 'Replication'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, pins.map((p) => {
      const name = p.name || '(no name)';
      const openHref = '#/open/' + encodeURIComponent(p.cid) + (p.name ? '?name=' + encodeURIComponent(p.name) : '');
      return h('tr', { dataset: { cid: p.cid } },
        h('td', { class: 'name' }, h('a', { href: openHref }, name)),
        h('td', { class: 'num' }, bytes(p.size)),
        h('td', {}, h('code', { class: 'cid', title: p.cid }, shortId(p.cid)), ' ', copyButton(p.cid)),
        h('td', {}, date(p.created)),
        h('td', { class: 'replication' }, p.replication || 'local only'),
        h('td', { class: 'actions' },
          h('a', { class: 'button small', href: openHref }, 'Open'),
          h('a', { class: 'button small', href: gatewayURL(p.cid, { name: p.name, download: true }), download: p.name || p.cid }, 'Download'),
          h('button', { type: 'button', class: 'small', dataset: { action: 'share' }, 'aria-expanded': 'false',
            title: 'Make a ticket a friend can get this with', onclick: () => share(p) }, 'Share'),
          h('button', { type: 'button', class: 'small danger', onclick: () => unpin(p) }, 'Unpin')));
    })));
}

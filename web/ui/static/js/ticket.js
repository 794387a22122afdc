// Share tickets: one string holding a CID, its name and this node's
// addresses, which a friend pastes on their Get page (or gives to
// `kith get`) to fetch the content straight from this node, with no DHT
// lookup.

import { h, copyButton } from './dom.js';

/**
 * ticketBox shows a ticket in a read-only field with a Copy button.
 * reachable (a boolean, or a promise of one) false adds a note that the
 * ticket holds no address a friend on the internet can dial.
 */
export function ticketBox(ticket, reachable) {
  const field = h('input', { type: 'text', class: 'ticket', readonly: true, value: ticket, spellcheck: 'false',
    'aria-label': 'Share ticket', onfocus: (e) => e.target.select() });
  const note = h('p', { class: 'warning small unreachable', role: 'note', hidden: true },
    'This ticket only works on your network until kith finds a relay: see the ',
    h('a', { href: '#/overview' }, 'Network panel'), '.');
  Promise.resolve(reachable).then((r) => { note.hidden = r !== false; }, () => {});
  return h('div', { class: 'ticket-box' },
    h('div', { class: 'token-row' }, field, copyButton(ticket, 'Copy', field)),
    note,
    h('p', { class: 'muted small' }, 'Your friend pastes it on their Get page, or runs ',
      h('code', {}, 'kith get TICKET'), '.'));
}

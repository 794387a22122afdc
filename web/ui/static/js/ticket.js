// Share tickets: one string holding a CID, its name and this node's
// addresses, which a friend pastes on their Get page (or gives to
// `kith get`) to fetch the content straight from this node, with no DHT
// lookup.

import { openCode } from './api.js';
import { h, copyButton, replace } from './dom.js';

/**
 * ticketBox shows a ticket in a read-only field with a Copy button.
 * reachable (a boolean, or a promise of one) false adds a note that the
 * ticket holds no address a friend on the internet can dial. Given the
 * content's cid, it offers a short code too (as kith send prints), open
 * while the page is.
 */
export function ticketBox(ticket, reachable, cid) {
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
      h('code', {}, 'kith get TICKET'), '.'),
    cid ? codeBox(cid) : null);
}

/**
 * codeBox offers a short code for cid: a number and three words a friend
 * types (or is read out over the phone) instead of the ticket. It is open
 * while this page is: closing the tab closes it, and so does closeCodes on
 * an element that holds the box.
 */
function codeBox(cid) {
  const el = h('div', { class: 'code-box' });
  const offer = h('button', { type: 'button', class: 'small', dataset: { action: 'code' } }, 'Short code instead');
  offer.addEventListener('click', async () => {
    offer.disabled = true;
    try {
      const { code, close } = await openCode(cid, (msg) => {
        replace(el, h('p', { class: 'warning small', role: 'note' }, 'The code is closed: ', msg));
      });
      el.closeCode = close;
      replace(el,
        h('p', {}, 'Code: ', h('strong', { class: 'code' }, code), ' ', copyButton(code)),
        h('p', { class: 'muted small' }, 'Your friend types it on their Get page, or runs ', h('code', {}, 'kith get ' + code),
          '. It works while this page stays open: their kith finds this computer through the DHT (or on your network) and proves it knows the code without sending it.'));
    } catch (err) {
      offer.disabled = false;
      replace(el, offer, h('p', { class: 'error small' }, err.message));
    }
  });
  replace(el, offer);
  return el;
}

/** closeCodes closes the codes the ticket boxes inside el opened. */
export function closeCodes(el) {
  el.querySelectorAll('.code-box').forEach((b) => { if (b.closeCode) b.closeCode(); });
}

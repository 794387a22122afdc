// privacyBox: whether a pin of yours is announced in the public DHT, and
// a button that turns that around (kith pin add --private, or
// --private=false).

import { events } from './api.js';
import { h } from './dom.js';

/**
 * privacyBox shows pin's privacy ({cid, private}) and lets the reader
 * change it; onChange runs after a change.
 */
export function privacyBox(pin, onChange = () => {}) {
  const said = h('span', { class: 'said' });
  const button = h('button', { type: 'button', class: 'small', dataset: { action: 'privacy' } });
  const box = h('p', { class: 'privacy small' }, said, ' ', button);
  const show = (priv) => {
    box.dataset.private = String(priv);
    said.textContent = priv
      ? 'Private: not announced in the public DHT; found through its ticket and your groups.'
      : 'Announced in the public DHT: anyone with its CID can find this computer and fetch it.';
    button.textContent = priv ? 'Announce it' : 'Make it private';
  };
  show(!!pin.private);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const p = await events('/pin/add', { cid: pin.cid, private: String(!pin.private) }, undefined, 'The change');
      pin.private = !!p.private;
      show(pin.private);
      onChange();
    } catch (err) {
      said.textContent = err.message;
    }
    button.disabled = false;
  });
  return box;
}

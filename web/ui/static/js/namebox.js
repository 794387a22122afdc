// nameBox: this node's IPNS name, in a pin's Share panel: whether it
// points to the pin, and a button that points it there (kith name
// publish), so that IPFS users (Kubo, and kith) get it at a stable
// address.

import { api, nameURL } from './api.js';
import { h, copyButton, replace } from './dom.js';

/**
 * nameBox shows whether this node's IPNS name points to pin ({cid,
 * private}) and lets the reader point it there.
 */
export function nameBox(pin) {
  const said = h('span', { class: 'said' });
  const button = h('button', { type: 'button', class: 'small', dataset: { action: 'publish-name' } }, 'Publish under my name');
  const box = h('p', { class: 'ipns-name small' }, said, ' ', button);
  const show = (rec) => {
    const here = rec && rec.value === '/ipfs/' + pin.cid;
    box.dataset.published = String(!!here);
    const addr = rec ? '/ipns/' + rec.name : '';
    if (here) {
      replace(said, 'Your IPNS name leads here: ', h('code', {}, addr), ' ', copyButton(addr), ' ',
        h('a', { class: 'button small', href: nameURL(rec.name), target: '_blank', rel: 'noopener', dataset: { action: 'open-name' } }, 'Open by name'),
        ' Anyone with kith or IPFS gets it by that name (', h('code', {}, 'kith get'), ', ', h('code', {}, 'ipfs get'), ', a gateway\'s ', h('code', {}, addr), ').');
    } else if (rec) {
      replace(said, 'Your IPNS name ', h('code', {}, addr), ' leads to other content; publish this under it instead (a stable address for what changes).');
    } else {
      replace(said, 'An IPNS name gives this a stable address IPFS users (Kubo, kith) can get it at, which you can later point to a newer version.');
    }
    button.hidden = !!here;
  };
  if (pin.private) {
    replace(said, 'Private content cannot be published under your IPNS name: no one could find it.');
    button.hidden = true;
    return box;
  }
  show(null);
  api('/names/self').then(show).catch(() => {});
  button.addEventListener('click', async () => {
    button.disabled = true;
    replace(said, 'Publishing…');
    try {
      show(await api('/names/publish', { method: 'POST', params: { cid: pin.cid } }));
    } catch (err) {
      replace(said, err.message);
    }
    button.disabled = false;
  });
  return box;
}

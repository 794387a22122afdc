// nameBox: this node's IPNS names, in a pin's Share panel: which of them
// point to the pin, and a button that points one there (kith name
// publish), so that IPFS users (Kubo, and kith) get it at a stable
// address. A node with more keys than its own ('kith name keys new')
// offers a choice of them.

import { api, nameURL } from './api.js';
import { h, copyButton, replace } from './dom.js';

/**
 * nameBox shows which of this node's names point to pin ({cid, private})
 * and lets the reader point one there.
 */
export function nameBox(pin) {
  const said = h('span', { class: 'said' });
  const choice = h('select', { class: 'small', 'aria-label': 'Name to publish under', dataset: { field: 'name-key' }, hidden: true });
  const button = h('button', { type: 'button', class: 'small', dataset: { action: 'publish-name' } }, 'Publish under my name');
  const box = h('p', { class: 'ipns-name small' }, said, ' ', choice, ' ', button);
  const leadsHere = (k) => k.record && k.record.value === '/ipfs/' + pin.cid;
  const line = (k) => {
    const addr = '/ipns/' + k.name;
    const who = k.key === 'self' ? 'Your IPNS name' : `The name of key ${k.key}`;
    return h('span', { class: 'name-line', dataset: { key: k.key } }, who + ' leads here: ', h('code', {}, addr), ' ', copyButton(addr), ' ',
      h('a', { class: 'button small', href: nameURL(k.name), target: '_blank', rel: 'noopener', dataset: { action: 'open-name' } }, 'Open by name'), ' ');
  };
  const show = (keys) => {
    const here = keys.filter(leadsHere);
    const self = keys.find((k) => k.key === 'self');
    box.dataset.published = String(here.length > 0);
    if (here.length > 0) {
      replace(said, ...here.map(line), `Anyone with kith or IPFS gets it by ${here.length > 1 ? 'these names' : 'that name'} (`, h('code', {}, 'kith get'), ', ',
        h('code', {}, 'ipfs get'), ', a gateway\'s ', h('code', {}, '/ipns/'), ').');
    } else if (self && self.record) {
      replace(said, 'Your IPNS name ', h('code', {}, '/ipns/' + self.name), ' leads to other content; publish this under it instead (a stable address for what changes).');
    } else {
      replace(said, 'An IPNS name gives this a stable address IPFS users (Kubo, kith) can get it at, which you can later point to a newer version.');
    }
    // The names that do not lead here yet, to publish under.
    const free = keys.filter((k) => !leadsHere(k));
    replace(choice, ...free.map((k) => h('option', { value: k.key }, k.key === 'self' ? 'my name (self)' : `key ${k.key}`)));
    choice.hidden = keys.length < 2 || free.length === 0;
    button.textContent = keys.length < 2 ? 'Publish under my name' : 'Publish under this name';
    button.hidden = free.length === 0;
  };
  if (pin.private) {
    replace(said, 'Private content cannot be published under your IPNS name: no one could find it.');
    button.hidden = true;
    return box;
  }
  show([]);
  button.hidden = false;
  const load = () => api('/names/keys').then(show).catch(() => {});
  load();
  button.addEventListener('click', async () => {
    button.disabled = true;
    replace(said, 'Publishing…');
    try {
      await api('/names/publish', { method: 'POST', params: { cid: pin.cid, key: choice.hidden ? 'self' : choice.value } });
      await load();
    } catch (err) {
      replace(said, err.message);
    }
    button.disabled = false;
  });
  return box;
}

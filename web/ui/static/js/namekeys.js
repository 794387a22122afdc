// nameKeys: the Settings page's IPNS names: this node's keys, one name
// each (kith name keys ls), what each points to, a form that makes one
// more (kith name keys new) and, after a confirm step, removing one (kith
// name keys rm). A pin's Share panel publishes under them (namebox.js).

import { api, nameURL } from './api.js';
import { h, copyButton, errorBox, replace, section } from './dom.js';

/** nameKeysSection returns the section; it loads the keys itself. */
export function nameKeysSection() {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'status small', id: 'name-key-status', role: 'status', 'aria-live': 'polite' });
  const input = h('input', { type: 'text', id: 'name-key-new', required: true, maxlength: 64, spellcheck: 'false', autocomplete: 'off',
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', title: '1 to 64 letters, digits, ., _ or -', placeholder: 'site' });
  const form = h('form', { id: 'name-key-form', class: 'inline' },
    h('label', { for: 'name-key-new' }, 'New key '), input, ' ', h('button', { type: 'submit' }, 'Make a key'));

  async function load() {
    let keys;
    try {
      keys = await api('/names/keys');
    } catch (err) {
      replace(list, errorBox(err));
      return;
    }
    replace(list, h('table', { id: 'name-keys', class: 'list name-keys' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Name'), h('th', {}, 'Points to'), h('th', {}, ''))),
      h('tbody', {}, keys.map(keyRow))));
  }

  function keyRow(k) {
    const addr = '/ipns/' + k.name;
    const actions = h('td', { class: 'actions' });
    const idle = () => replace(actions, copyButton(addr),
      k.record ? h('a', { class: 'button small', href: nameURL(k.name), target: '_blank', rel: 'noopener', dataset: { action: 'open-name' } }, 'Open by name') : null,
      k.key === 'self' ? null : h('button', { type: 'button', class: 'small', dataset: { action: 'remove-key' }, onclick: ask }, 'Remove…'));
    const ask = () => {
      const sure = h('button', { type: 'button', class: 'small danger', dataset: { action: 'remove-key-confirm' }, onclick: () => remove(k.key) }, `Remove key ${k.key}`);
      replace(actions, h('span', { class: 'warning small', role: 'alert' },
        'Its name is published no more and cannot be made again (export the key first to keep it). '), sure,
        h('button', { type: 'button', class: 'small', onclick: idle }, 'Cancel'));
      sure.focus();
    };
    idle();
    return h('tr', { dataset: { key: k.key } },
      h('td', {}, k.key === 'self' ? 'self (this node\'s)' : k.key),
      h('td', {}, h('code', { class: 'name' }, addr)),
      h('td', {}, k.record ? h('code', {}, k.record.value) : h('span', { class: 'muted' }, 'nothing published yet')),
      actions);
  }

  // Each change is said once the list shows it.
  async function remove(key) {
    status.textContent = `Removing key ${key}…`;
    let said = `Removed key ${key}.`;
    try {
      await api('/names/keys/rm', { method: 'POST', params: { key } });
    } catch (err) {
      said = err.message;
    }
    await load();
    status.textContent = said;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    status.textContent = `Making key ${key}…`;
    let said;
    try {
      const k = await api('/names/keys/new', { method: 'POST', params: { key } });
      said = `Made key ${k.key}: its name is /ipns/${k.name}. Publish under it from a file's Share panel.`;
      input.value = '';
    } catch (err) {
      said = err.message;
    }
    await load();
    status.textContent = said;
  });
  load();
  return section('IPNS names',
    h('p', { class: 'muted small' }, 'Each key is one name, a stable address IPFS users (Kubo, kith) get content at: publish a file or folder under one from its Share panel, and later point it to a newer version. Keys live in the repo; ',
      h('code', {}, 'kith name keys export'), ' moves one to another computer.'),
    list, form, status);
}

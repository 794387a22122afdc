// nameKeys: the Settings page's IPNS names: this node's keys, one name
// each (kith name keys ls), what each points to, a form that makes one
// more (kith name keys new), one that imports a key file (kith name keys
// import), renaming one (kith name keys rename) and, after a confirm step,
// removing one (kith name keys rm). A pin's Share panel publishes under
// them (namebox.js). No page exports a key: only the CLI reads one out.

import { api, nameURL } from './api.js';
import { h, copyButton, errorBox, replace, section } from './dom.js';

/** nameKeysSection returns the section; it loads the keys itself. */
export function nameKeysSection() {
  const list = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const status = h('p', { class: 'status small', id: 'name-key-status', role: 'status', 'aria-live': 'polite' });
  const input = keyInput({ id: 'name-key-new', placeholder: 'site' });
  const form = h('form', { id: 'name-key-form', class: 'inline' },
    h('label', { for: 'name-key-new' }, 'New key '), input, ' ', h('button', { type: 'submit' }, 'Make a key'));
  const file = h('input', { type: 'file', id: 'name-key-file', required: true, 'aria-label': 'Key file' });
  const importAs = keyInput({ id: 'name-key-import-as', 'aria-label': 'Import as key', placeholder: 'key name' });
  const importForm = h('form', { id: 'name-key-import', class: 'inline import' },
    h('label', { for: 'name-key-file' }, 'Import a key file (from ', h('code', {}, 'kith name keys export'), ' or Kubo\'s ',
      h('code', {}, 'ipfs key export'), ') as the key '), file, importAs, h('button', { type: 'submit' }, 'Import'));
  // A file exported as NAME.key suggests its name.
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && !importAs.value) importAs.value = f.name.replace(/\.(key|pem)$/i, '').replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  });

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
      k.key === 'self' ? null : h('button', { type: 'button', class: 'small', dataset: { action: 'rename-key' }, onclick: renaming }, 'Rename…'),
      k.key === 'self' ? null : h('button', { type: 'button', class: 'small', dataset: { action: 'remove-key' }, onclick: ask }, 'Remove…'));
    const renaming = () => {
      const to = keyInput({ value: k.key, 'aria-label': `New name of key ${k.key}`, dataset: { field: 'rename-to' } });
      const f = h('form', { class: 'rename', dataset: { action: 'rename-form' } }, to, ' ',
        h('button', { type: 'submit', class: 'small' }, 'Rename'), ' ',
        h('button', { type: 'button', class: 'small', onclick: idle }, 'Cancel'));
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        if (to.value.trim() === k.key) idle();
        else rename(k.key, to.value.trim());
      });
      replace(actions, f);
      to.focus();
      to.select();
    };
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
  async function rename(key, to) {
    status.textContent = `Renaming key ${key}…`;
    let said;
    try {
      const k = await api('/names/keys/rename', { method: 'POST', params: { key, to } });
      said = `Renamed key ${key} to ${k.key}: its name stays /ipns/${k.name}.`;
    } catch (err) {
      said = err.message;
    }
    await load();
    status.textContent = said;
  }

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
  importForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = importAs.value.trim();
    const f = file.files[0];
    status.textContent = `Importing key ${key}…`;
    let said;
    try {
      const k = await api('/names/keys/import', { method: 'POST', params: { key }, body: f });
      said = `Imported key ${k.key}: its name is /ipns/${k.name}. Publish under it from a file's Share panel: that replaces what the name leads to now.`;
      importForm.reset();
    } catch (err) {
      said = err.message;
    }
    await load();
    status.textContent = said;
  });
  load();
  return section('IPNS names',
    h('p', { class: 'muted small' }, 'Each key is one name, a stable address IPFS users (Kubo, kith) get content at: publish a file or folder under one from its Share panel, and later point it to a newer version. Keys live in the repo; ',
      h('code', {}, 'kith name keys export'), ' (on the command line only) writes one out to move it to another computer, where it is imported below.'),
    list, form, importForm, status);
}

/** keyInput is a text field for a key's name, with the daemon's rule. */
function keyInput(attrs) {
  return h('input', { type: 'text', required: true, maxlength: 64, spellcheck: 'false', autocomplete: 'off',
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', title: '1 to 64 letters, digits, ., _ or -', ...attrs });
}

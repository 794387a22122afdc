// Settings: the settings people change most, as `kith config set` changes
// them (the daemon checks each value and writes config.json; the caps,
// the downloads' cache and the space offered to groups apply at once, the
// others when the daemon restarts), this node's IPNS names (namekeys.js),
// then every setting with its value.

import { api } from '../api.js';
import { h, errorBox, replace, section } from '../dom.js';
import { bytes } from '../format.js';
import { nameKeysSection } from '../namekeys.js';

export const title = 'Settings';

// The settings this page edits, each with how it is shown and typed.
const edited = [
  {
    key: 'fetch.upload_limit', label: 'Upload limit', kind: 'bytes', unit: '/s',
    hint: 'Most this computer sends to peers per second, all transfers together (0: no limit). A home uplink is often 5–50 Mbit/s: 1MiB leaves room for the rest.',
  },
  {
    key: 'fetch.download_limit', label: 'Download limit', kind: 'bytes', unit: '/s',
    hint: 'Most this computer fetches per second (0: no limit; at least 64 KiB).',
  },
  {
    key: 'fetch.cache_max', label: 'Downloads kept', kind: 'bytes',
    hint: 'What finished downloads keep in the repo (as a cache, so that peers can fetch them from you) before the oldest go; the files you saved stay. 0 keeps none.',
  },
  {
    key: 'groups.budget_percent', label: 'Space offered to groups', kind: 'percent',
    hint: 'Share of the free disk your groups may fill with the copies they keep on this computer. 0 keeps none: this computer still shares, gets and follows, and the copies it kept move to other members.',
  },
  {
    key: 'dht.announce', label: 'Announce what you add in the public DHT', kind: 'bool',
    hint: 'Anyone who knows a CID can then find this computer and fetch it, as in IPFS. Private adds and group shares are never announced.',
  },
];

export function render(main) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const all = h('div', {});
  replace(main, h('div', { class: 'page-head' }, h('h1', {}, 'Settings')), body, nameKeysSection(),
    section('Every setting', h('p', { class: 'muted small' },
      'As config.json holds them. Change any of them with ', h('code', {}, 'kith config set KEY VALUE'), ' in a terminal.'), all));

  async function load() {
    let settings;
    try {
      settings = await api('/config');
    } catch (err) {
      replace(body, errorBox(err));
      return;
    }
    const byKey = new Map(settings.map((s) => [s.key, s]));
    replace(body, section('Change', ...edited.map((e) => byKey.has(e.key) ? row(e, byKey.get(e.key), load) : null)));
    replace(all, table(settings));
  }
  load();
}

// row is the form of one setting: its field, a Save button, and what the
// daemon did with the value.
function row(e, s, reload) {
  const id = 'setting-' + e.key.replace('.', '-');
  const status = h('p', { class: 'status small', role: 'status', 'aria-live': 'polite' });
  let field;
  if (e.kind === 'bool') {
    field = h('input', { type: 'checkbox', id, checked: s.value === 'true' });
  } else if (e.kind === 'percent') {
    field = h('input', { type: 'number', id, min: 0, max: 100, step: 1, value: s.value, required: true });
  } else {
    field = h('input', { type: 'text', id, value: Number(s.value) > 0 ? bytes(s.value).replace(' ', '') : '0',
      class: 'setting-bytes', spellcheck: 'false', autocomplete: 'off', required: true });
  }
  const value = () => (e.kind === 'bool' ? String(field.checked) : field.value.trim());
  const pending = s.pending ? h('span', { class: 'badge warn pending' }, 'applies when the daemon restarts') : null;
  const form = h('form', { class: 'setting', id: id + '-form', dataset: { key: e.key } },
    e.kind === 'bool'
      ? h('p', { class: 'inline' }, h('label', { for: id }, field, ' ', e.label), ' ', pending)
      : h('p', { class: 'inline' }, h('label', { for: id }, e.label), ' ', field,
        { '/s': ' per second (such as 2MiB)', '': e.kind === 'percent' ? ' % of the free disk' : ' (such as 10GiB)' }[e.unit || ''], ' ', pending),
    h('p', { class: 'muted small', id: id + '-help' }, e.hint, ' ', h('span', { class: 'default' }, `Default: ${shown(e, s.default)}.`)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')),
    status);
  field.setAttribute('aria-describedby', id + '-help');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    status.textContent = 'Saving…';
    try {
      const got = await api('/config/set', { method: 'POST', params: { key: e.key, value: value() } });
      await reload();
      const again = document.getElementById(id + '-form');
      const st = again ? again.querySelector('.status') : status;
      st.textContent = got.live
        ? `Saved: ${shown(e, got.value)}, in use now.`
        : `Saved: ${shown(e, got.value)}. It applies when the daemon restarts (kith shutdown, then kith daemon).`;
    } catch (err) {
      status.textContent = err.message;
    }
  });
  return form;
}

// shown is a value as the page says it.
function shown(e, v) {
  switch (e.kind) {
    case 'bytes': return Number(v) > 0 ? bytes(v) + (e.unit || '') : (e.key === 'fetch.cache_max' ? 'none' : 'no limit');
    case 'percent': return Number(v) > 0 ? `${v}%` : 'none';
    case 'bool': return v === 'true' ? 'yes' : 'no';
    default: return v;
  }
}

// table lists every setting: key, value, default, and whether a change
// waits for a restart.
function table(settings) {
  return h('table', { class: 'list settings' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Key'), h('th', {}, 'Value'), h('th', {}, 'Default'), h('th', {}, 'Applies'))),
    h('tbody', {}, settings.map((s) => h('tr', { dataset: { key: s.key } },
      h('td', { 'data-label': 'Key' }, h('code', {}, s.key)),
      h('td', { 'data-label': 'Value' }, h('code', {}, s.value)),
      h('td', { 'data-label': 'Default' }, s.value === s.default ? h('span', { class: 'muted' }, 'the same') : h('code', {}, s.default)),
      h('td', { 'data-label': 'Applies' }, s.read_only ? 'never set' : s.live ? 'at once'
        : s.pending ? h('span', { class: 'badge warn pending' }, 'at the restart') : 'when the daemon starts')))));
}

// Add: drag and drop files or whole folders, or choose them, or give the
// path of one on this computer (the daemon reads it itself: no upload),
// and watch each one go in with its own progress bar.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, replace } from '../dom.js';
import { bytes, pace, percent } from '../format.js';
import { groupShareBox } from '../groupshare.js';
import { ticketBox } from '../ticket.js';
import { downloadersOf } from '../uploads.js';
import { baseName, pathField } from '../localpath.js';
import { addPath, folderName, itemsFromDrop, itemsFromInput, skippedSentence, unreadableSentence, upload, wrapItems } from '../upload.js';

export const title = 'Add';

// Items are queued across visits to the page: an upload keeps going (and
// shows) when the reader looks at another page and comes back.
const rows = [];
let queue = Promise.resolve();

export function render(main) {
  const list = h('ol', { class: 'uploads', id: 'uploads', 'aria-label': 'Uploads' });
  const fileInput = h('input', { type: 'file', id: 'file-input', multiple: true, class: 'file-input' });
  const dirInput = h('input', { type: 'file', id: 'dir-input', webkitdirectory: true, class: 'file-input' });
  const zone = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', { class: 'big' }, 'Drop files or folders here'),
    h('p', {}, 'or'),
    h('div', { class: 'choose' },
      h('label', { class: 'button', for: 'file-input' }, 'Choose files…', fileInput),
      h('label', { class: 'button', for: 'dir-input' }, 'Choose a folder…', dirInput)),
    h('p', { class: 'muted' }, 'Everything added is pinned in this node\'s repo and, unless private, announced to the network.'));
  // Several files chosen or dropped at once can go in one new folder:
  // one upload, one ticket to give a friend instead of one per file.
  const wrap = h('input', { type: 'checkbox', id: 'wrap' });
  const wrapName = h('input', { type: 'text', id: 'wrap-name', value: 'shared-' + new Date().toISOString().slice(0, 10),
    maxlength: 255, 'aria-label': 'Name of the folder' });
  const wrapRow = h('p', { class: 'wrap-option' },
    h('label', { for: 'wrap' }, wrap, ' Add several files at once as one folder (one ticket for all), named '), wrapName);
  // As kith add --private: out of the DHT, found only through its ticket
  // (and the groups it is shared in).
  const priv = h('input', { type: 'checkbox', id: 'add-private' });
  const privRow = h('p', { class: 'wrap-option' },
    h('label', { for: 'add-private' }, priv, ' Private: do not announce it in the public DHT; only people you give its ticket to (and your groups, if you share it there) can find it'));
  const opts = () => ({ private: priv.checked });

  const addItems = (items) => {
    const name = folderName(wrapName.value) || 'shared';
    if (wrap.checked && items.length > 1) items = [wrapItems(items, name)];
    items.forEach((it) => enqueueItem(it, list, opts()));
  };
  fileInput.addEventListener('change', () => { addItems(itemsFromInput(fileInput.files)); fileInput.value = ''; });
  dirInput.addEventListener('change', () => { addItems(itemsFromInput(dirInput.files)); dirInput.value = ''; });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', async (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    addItems(await itemsFromDrop(e.dataTransfer));
  });

  replace(main, h('h1', {}, 'Add'), zone, wrapRow, privRow, pathForm(list, opts), list);
  for (const r of rows) list.prepend(r.el);
}

// pathForm adds a file or folder of this computer by its path: the daemon
// reads it where it is, which spares a big folder the trip through the
// browser. opts() gives the add's options as the page's boxes say now.
function pathForm(list, opts) {
  const field = pathField({ id: 'add-path', 'aria-label': 'Path of a file or folder on this computer' }, 'Videos');
  const said = h('p', { class: 'status small', id: 'add-path-status', role: 'status', 'aria-live': 'polite' });
  // As kith add --nocopy: the repo keeps where the bytes of large files
  // are, not a second copy, for a folder the user keeps as it is.
  const nocopy = h('input', { type: 'checkbox', id: 'add-nocopy' });
  // As kith add --skip-unreadable.
  const skip = h('input', { type: 'checkbox', id: 'add-skip-unreadable' });
  return h('form', { class: 'add-path', id: 'add-path-form', onsubmit: (e) => {
    e.preventDefault();
    const { path, error } = field.resolve();
    said.textContent = error || '';
    if (error) return;
    field.input.value = '';
    const o = { ...opts(), nocopy: nocopy.checked, skipUnreadable: skip.checked };
    enqueue(list, baseName(path), path, 'Adding…', (onProgress) =>
      addPath(path, o, (p) => onProgress({ ...p, sent: p.total })).then((res) => ({ ...res, inFiles: o.nocopy })));
  } },
  h('label', { for: 'add-path' }, 'Or add a file or folder of this computer by its path'),
  h('div', { class: 'token-row' }, field.input, h('button', { type: 'submit' }, 'Add')),
  h('p', { class: 'muted small' }, 'The daemon reads it where it is: nothing goes through the browser, which is faster for a big folder.'),
  h('p', { class: 'wrap-option' },
    h('label', { for: 'add-nocopy' }, nocopy, ' Leave the bytes in the files: no second copy in the repo (files of 64 KiB and more); keep them as they are, since a file changed or moved is no longer shared')),
  h('p', { class: 'wrap-option' },
    h('label', { for: 'add-skip-unreadable' }, skip, ' Leave out the files and folders in it the daemon may not read, and name them, rather than stop')),
  said);
}

function enqueueItem(item, list, opts) {
  enqueue(list, item.name + (item.dirs.length ? '/' : ''),
    `${item.files.length} file${item.files.length === 1 ? '' : 's'}, ${bytes(item.size)}`, 'Uploading…',
    (onProgress) => upload(item, onProgress, opts), item.name);
}

/**
 * enqueue shows one add in the list, run after those before it: label and
 * detail head its row, first is the status it starts with, and run(onProgress)
 * adds it, reporting {sent, added, total, rate}.
 */
function enqueue(list, label, detail, first, run, name = label) {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Progress of ' + label });
  const status = h('span', { class: 'status' }, 'Waiting…');
  const result = h('div', { class: 'result' });
  const el = h('li', { class: 'upload', dataset: { name, state: 'waiting' } },
    h('div', { class: 'row' },
      h('strong', { class: 'name' }, label),
      h('span', { class: 'muted' }, detail)),
    bar, status, result);
  rows.push({ el });
  list.prepend(el);
  queue = queue.then(async () => {
    el.dataset.state = 'running';
    status.textContent = first;
    try {
      const res = await run((p) => {
        const pct = percent(Math.max(p.added, p.sent), p.total);
        if (pct !== null) bar.value = pct;
        status.textContent = progressText(p);
      });
      bar.value = 100;
      el.dataset.state = 'done';
      el.dataset.cid = res.cid;
      status.textContent = `Added and pinned, ${bytes(res.size)}.${skippedSentence(res)}${unreadableSentence(res)}` +
        (res.inFiles ? ' Its large files are read where they are: keep them as they are.' : '');
      replace(result,
        h('code', { class: 'cid' }, res.cid), ' ', copyButton(res.cid), ' ',
        h('a', { class: 'button small', href: '#/open/' + encodeURIComponent(res.cid) + '?name=' + encodeURIComponent(res.name) }, 'Open'), ' ',
        h('a', { class: 'button small', href: gatewayURL(res.cid, { name: res.name, download: true }) }, 'Download'),
        // The ticket is reachable from the internet when the node has an
        // address to share there (the rule GET /ticket applies).
        res.ticket ? ticketBox(res.ticket, api('/id').then((id) => (id.share || []).length > 0), res.cid) : null,
        // Who downloads it, as kith send says it.
        downloadersOf(res.cid, res.size),
        groupShareBox(res.cid, res.name, { quietWithoutGroups: true }));
    } catch (err) {
      el.dataset.state = 'failed';
      status.textContent = err.message;
      status.setAttribute('role', 'alert');
    }
  });
}

/**
 * progressText says how an upload goes, from upload's progress
 * {sent, added, total, rate}: the step, how much of how much, and, once
 * the daemon has measured it, the rate and the time left at that rate.
 */
export function progressText(p) {
  const importing = p.sent >= p.total && p.added < p.total;
  const done = importing ? p.added : Math.max(p.added, p.sent);
  return [`${importing ? 'Importing' : 'Uploading'}… ${bytes(done)} of ${bytes(p.total)}`, ...pace(p.added, p.total, p.rate)].join(' · ');
}

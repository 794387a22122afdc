// Sharing a folder of this computer in a group from the page, as
// `kith share PATH --group G [--watch | --sync]` does: the daemon reads the
// folder itself (the page sends its path, never its bytes), pins it, asks
// the group to keep copies of it and, when asked to follow it, shares it
// again whenever it changes; synced both ways, it also writes in what other
// devices change in their copies. Below the form: the folders the group's
// shares follow, each with what went wrong with it and Stop following
// (`kith watch ls`, `kith watch rm`).

import { api, setPaused } from './api.js';
import { recentChanges } from './changes.js';
import { h, replace } from './dom.js';
import { ago, bytes, keptSentence, pace, percent } from './format.js';
import { maxCopies, minCopies, sharedSentence } from './groupshare.js';
import { baseName, namePatterns, pathField } from './localpath.js';
import { addPath, skippedSentence, unreadableSentence } from './upload.js';

/**
 * folderShareBox is the form that shares a folder of this computer in
 * group g and the list of the folders g's shares follow: {el, refresh},
 * refresh listing those again. onChange runs after a share.
 */
export function folderShareBox(g, { onChange = () => {} } = {}) {
  const field = pathField({ id: 'folder-path', class: 'folder-path', 'aria-describedby': 'folder-path-help' }, 'Photos');
  const path = field.input;
  const copies = h('input', { type: 'number', id: 'folder-copies', min: minCopies, max: maxCopies, value: 2, required: true });
  const follow = h('input', { type: 'checkbox', id: 'folder-follow', checked: true });
  // As kith share --sync: what other devices change is written in too.
  const sync = h('input', { type: 'checkbox', id: 'folder-sync' });
  // As kith share --watch --keep N: the versions before the current one
  // stay shared too, so a file deleted by mistake can be got back.
  const keep = h('input', { type: 'number', id: 'folder-keep', min: 0, max: 100, value: 0 });
  const exclude = h('input', { type: 'text', id: 'folder-exclude', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'node_modules/, *.tmp' });
  const bar = h('progress', { max: 100, hidden: true, 'aria-label': 'Progress of the add' });
  const status = h('p', { class: 'status small', id: 'folder-status', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'folder-share', class: 'primary' }, 'Share folder');
  const followed = h('div', { class: 'followed' });
  // A folder that syncs is followed too.
  sync.addEventListener('change', () => { if (sync.checked) follow.checked = true; });
  follow.addEventListener('change', () => { if (!follow.checked) sync.checked = false; });

  const form = h('form', { class: 'folder-share', id: 'folder-share-form', onsubmit: (e) => { e.preventDefault(); share(); } },
    h('p', {},
      h('label', { for: 'folder-path' }, 'Folder on this computer'), ' ', path),
    h('p', { class: 'muted small', id: 'folder-path-help' },
      'The daemon reads the folder itself: give its full path. Nothing is uploaded through this page.'),
    h('p', { class: 'inline' },
      h('label', { for: 'folder-copies' }, 'Keep '), copies, ` copies among the members of ${g.name}`),
    h('p', { class: 'inline' }, h('label', { for: 'folder-follow' }, follow, ' Follow the folder: share it again whenever it changes')),
    h('p', { class: 'inline' }, h('label', { for: 'folder-sync' }, sync,
      ' Sync both ways: what other devices change in their copies is written here too (where two change one file, the later change keeps the name and the other is kept beside it)')),
    h('p', { class: 'inline' }, h('label', { for: 'folder-keep' }, 'and keep the '), keep,
      ' versions before the current one too (a file deleted or overwritten by mistake can be got back)'),
    h('p', { class: 'inline' }, h('label', { for: 'folder-exclude' }, 'Leave out (optional): names or paths from the top, patterns allowed, comma-separated'), exclude),
    h('p', { class: 'muted small' }, 'A .kithignore file at the top of the folder leaves out more: one pattern a line.'),
    h('div', { class: 'actions' }, submit),
    bar, status);

  async function share() {
    const { path: full, error } = field.resolve();
    if (error) {
      status.textContent = error;
      return;
    }
    const n = copies.valueAsNumber;
    const leaveOut = namePatterns(exclude.value);
    const keepN = keep.valueAsNumber || 0;
    if (sync.checked && leaveOut.length) {
      status.textContent = 'A folder that syncs both ways leaves nothing out (what it lacked would be deleted for everyone): list what stays on this computer in a .kithignore file at the top of the folder.';
      return;
    }
    submit.disabled = true;
    bar.hidden = false;
    bar.removeAttribute('value');
    status.textContent = `Reading ${full}…`;
    // What is written after the add starts is shared again at once.
    const since = new Date().toISOString();
    let added;
    try {
      // What a group keeps is not announced in the public DHT.
      // A folder followed is the copy of its newest version: the repo
      // keeps where its bytes are (unless earlier versions are kept).
      const nocopy = (follow.checked || sync.checked) && !keepN;
      // A file the daemon may not read is left out, and tried again by
      // the watch, unless the group shares the name already: its
      // followers would take the file as deleted.
      const skipUnreadable = (follow.checked || sync.checked) && !(await sharesName(baseName(full)));
      added = await addPath(full, { exclude: leaveOut, private: true, nocopy, skipUnreadable }, (p) => {
        const pct = percent(p.added, p.total);
        if (pct !== null) bar.value = pct;
        status.textContent = addingText(full, p);
      });
    } catch (err) {
      status.textContent = err.message;
      done();
      return;
    }
    bar.value = 100;
    let said = `Added ${added.name}, ${bytes(added.size)}.${skippedSentence(added)}${unreadableSentence(added, true)}`;
    let in_;
    try {
      // path: the daemon shares the folder's modes and times with it.
      // keep, for a folder that syncs: in the version's meta, so that
      // every device that syncs it keeps as many.
      in_ = await api('/groups/share', { method: 'POST',
        params: { group: g.id, cid: added.cid, copies: n, path: full, keep: (sync.checked && keepN) || undefined } });
      said += ' ' + sharedSentence(in_, added.name);
      onChange();
    } catch (err) {
      status.textContent = `${said} It is pinned here but not shared: ${err.message}`;
      done();
      return;
    }
    if (sync.checked) {
      try {
        const m = await api('/groups/sync', { method: 'POST',
          params: { group: g.id, name: in_.name, path: full, cid: added.cid, copies: n, since, keep: keepN || undefined } });
        said += ` It syncs ${m.path} both ways: what changes there is shared, and what other devices share as ${m.name} is written in.`;
        if (m.keep) said += ` The group keeps the ${m.keep === 1 ? 'version' : `${m.keep} versions`} before the newest too.`;
      } catch (err) {
        said += ` But the folder does not sync: ${err.message}`;
      }
    } else if (follow.checked) {
      try {
        const w = await api('/groups/watch', { method: 'POST',
          params: { group: g.id, path: full, copies: n, cid: added.cid, since, exclude: leaveOut, keep: keepN || undefined } });
        said += w.keep
          ? ` It follows ${w.path}: a change is shared again, and the ${w.keep === 1 ? 'version' : `${w.keep} versions`} before it kept.`
          : ` It follows ${w.path}: a change is shared again in its place.`;
        // The same version followed from a folder now gone: it moved here.
        for (const m of w.moved || []) said += ` ${m}, which is gone, is no longer followed.`;
      } catch (err) {
        said += ` But the folder is not followed: ${err.message}`;
      }
    }
    status.textContent = said;
    loadFollowed();
    done();
  }
  // sharesName says whether g shares something as name already.
  async function sharesName(name) {
    const all = await api('/groups/status/all');
    return all.some((st) => st.group === g.name && st.name === name);
  }
  function done() {
    submit.disabled = false;
    bar.hidden = true;
  }

  // loadFollowed lists the folders g's shares follow.
  async function loadFollowed() {
    let ws;
    try {
      ws = (await api('/groups/watches')).filter((w) => w.group === g.name);
    } catch (err) {
      replace(followed, h('p', { class: 'error small' }, err.message));
      return;
    }
    if (!ws.length) {
      replace(followed);
      return;
    }
    replace(followed, h('h3', {}, 'Folders followed'),
      h('ul', { class: 'plain', id: 'followed' }, ws.map((w) => h('li', { dataset: { path: w.path } },
        h('code', {}, w.path), ' ',
        h('span', { class: 'muted small' }, `shared ${ago(w.updated)}, ${w.copies} ${w.copies === 1 ? 'copy' : 'copies'}`),
        w.sync ? h('div', { class: 'muted small sync' }, 'Syncs both ways: what other devices change is written here too.' + keptSentence(g.name, w.keep)) : null,
        w.paused ? h('div', { class: 'warning small paused' }, w.sync
          ? 'Paused: what changes there is not shared, nor are newer versions written in, until you resume it.'
          : 'Paused: what changes there is not shared until you resume it.') : null,
        w.error ? h('div', { class: 'warning small' }, w.error) : null,
        (w.earlier || []).length ? keptVersions(w) : null,
        // (A synced folder's are listed with its row among those that follow.)
        !w.sync && w.recent?.length ? recentChanges(w.recent) : null, ' ',
        h('button', { type: 'button', class: 'small', dataset: { action: w.paused ? 'resume' : 'pause' },
          title: w.paused ? 'Share what changed now' : 'Share nothing of it until you resume it: while you reorganise it, say',
          onclick: () => pauseFolder(w.path, !w.paused) }, w.paused ? 'Resume' : 'Pause'), ' ',
        h('button', { type: 'button', class: 'small', dataset: { action: 'unwatch' }, onclick: () => unwatch(w) }, w.sync ? 'Stop syncing' : 'Stop following')))));
  }

  async function pauseFolder(p, paused) {
    try {
      await setPaused(p, paused);
      status.textContent = paused ? `${p} is paused until you resume it.` : `${p} is resumed: what changed there is shared now.`;
    } catch (err) {
      status.textContent = err.message;
    }
    loadFollowed();
  }

  async function unwatch(w) {
    try {
      await api('/groups/unwatch', { method: 'POST', params: { group: g.id, path: w.path } });
      status.textContent = `${g.name} keeps the version of ${w.path} shared last; the folder is no longer ${w.sync ? 'synced either way' : 'followed'}.`;
    } catch (err) {
      status.textContent = err.message;
    }
    loadFollowed();
  }

  loadFollowed();
  return { el: h('div', {}, form, followed), refresh: loadFollowed };
}

// keptVersions lists the earlier versions a watch keeps shared, newest
// first, each opening in the browser (from here or from the members).
function keptVersions(w) {
  const n = w.earlier.length;
  return h('details', { class: 'kept small' },
    h('summary', {}, `${n} earlier version${n === 1 ? '' : 's'} kept`),
    h('ul', { class: 'plain' }, [...w.earlier].reverse().map((c) => h('li', {},
      h('a', { href: '#/open/' + encodeURIComponent(c) + '?name=' + encodeURIComponent(baseName(w.path)) }, h('code', { class: 'cid' }, c))))));
}

// addingText says how the add goes: how much of how much, the rate and
// the time left at that rate.
function addingText(path, p) {
  return [`Adding ${path}… ${bytes(p.added)}${p.total ? ' of ' + bytes(p.total) : ''}`, ...pace(p.added, p.total, p.rate)].join(' · ');
}

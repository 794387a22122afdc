// Following a share of a group into a folder of this computer from the
// page, as `kith get NAME --group G -o PATH --follow` does: the daemon
// writes the newest version the group shares under the name into a new
// folder at the path typed (or, as `kith mirror add`, into a copy already
// there), then keeps it as the group's newest version (only what changed
// is written; what was changed here is kept), or, ticked, syncs it both
// ways (`kith get --sync`: what changes there is shared too). Below
// the form: the folders that follow g's shares, each with what went wrong
// and what was kept, and Stop following (`kith mirror ls`, `kith mirror rm`).

import { api, events, setPaused } from './api.js';
import { recentChanges } from './changes.js';
import { h, replace } from './dom.js';
import { ago, bytes, keptSentence, pace, percent } from './format.js';
import { namePatterns, pathField } from './localpath.js';

/**
 * mirrorBox is the form that follows a share of group g into a folder of
 * this computer, and the list of those that do: {el, refresh}, refresh
 * reading the shares and the folders again.
 */
export function mirrorBox(g) {
  const field = pathField({ id: 'mirror-path', 'aria-describedby': 'mirror-path-help' }, 'Documents');
  const name = h('select', { id: 'mirror-name', required: true });
  const bar = h('progress', { max: 100, hidden: true, 'aria-label': 'Progress of the get' });
  const status = h('p', { class: 'status small', id: 'mirror-status', role: 'status', 'aria-live': 'polite' });
  // As kith mirror add: a copy already here follows as it is.
  const had = h('input', { type: 'checkbox', id: 'mirror-had' });
  // As kith get --sync: what changes in the folder is shared too.
  const sync = h('input', { type: 'checkbox', id: 'mirror-sync' });
  // As --exclude: what this computer leaves out of each version.
  const exclude = h('input', { type: 'text', id: 'mirror-exclude', spellcheck: 'false', autocomplete: 'off',
    placeholder: '*.mov, /Raw/' });
  const submit = h('button', { type: 'submit', id: 'mirror-follow' }, 'Get and follow');
  const list = h('div', { class: 'mirrors' });
  const form = h('form', { class: 'mirror-form', id: 'mirror-form', onsubmit: (e) => { e.preventDefault(); follow(); } },
    h('p', {}, h('label', { for: 'mirror-name' }, 'Share'), ' ', name),
    h('p', {}, h('label', { for: 'mirror-path' }, 'Into a folder on this computer'), ' ', field.input),
    h('p', { class: 'inline' }, h('label', { for: 'mirror-had' }, had,
      ' I already have a copy there: follow it as it is (what differs from the group\'s is kept, what it lacks is written)')),
    h('p', { class: 'inline' }, h('label', { for: 'mirror-sync' }, sync,
      ' Sync both ways: what you change in the folder is shared too (where two devices change a file at once, the other change is kept beside it)')),
    h('p', { class: 'inline' }, h('label', { for: 'mirror-exclude' },
      'Leave out (optional): names or paths from the top, patterns allowed, comma-separated; neither fetched nor written'), exclude),
    h('p', { class: 'muted small', id: 'mirror-path-help' },
      `The daemon writes the newest version there (a new folder, unless you have a copy), then each newer one ${g.name} shares under that name: only what changed. `
      + 'What you change or add in the folder is yours, never overwritten; nothing of it is shared, unless the folder syncs both ways.'),
    h('div', { class: 'actions' }, submit),
    bar, status);

  // newest maps each name g shares to its newest version's CID.
  let newest = new Map();
  async function loadNames() {
    let all;
    try {
      all = (await api('/groups/status/all')).filter((st) => st.group === g.name && st.name);
    } catch {
      return;
    }
    all.sort((a, b) => (b.created || '').localeCompare(a.created || ''));
    newest = new Map();
    for (const st of all) if (!newest.has(st.name)) newest.set(st.name, st.cid);
    const names = [...newest.keys()].sort();
    // An open list is not redrawn under the user when nothing changed.
    if (names.join('\n') !== [...name.options].map((o) => o.value).join('\n')) {
      const chosen = name.value;
      replace(name, names.map((n) => h('option', { value: n }, n)));
      if (names.includes(chosen)) name.value = chosen;
    }
    submit.disabled = names.length === 0;
    const nothing = `${g.name} shares nothing yet.`;
    if (!names.length) status.textContent = nothing;
    else if (status.textContent === nothing) status.textContent = '';
  }

  async function follow() {
    const { path, error } = field.resolve();
    const share = name.value;
    const cid = newest.get(share);
    const leaveOut = namePatterns(exclude.value);
    if (error || !cid) {
      status.textContent = error || 'Choose a share.';
      return;
    }
    if (sync.checked && (had.checked || leaveOut.length)) {
      status.textContent = had.checked ? 'A folder that syncs both ways is got first: untick "I already have a copy there".'
        : 'A folder that syncs both ways leaves nothing out (what it lacked would be deleted for everyone): list what stays on this computer in a .kithignore file at the top of the folder.';
      return;
    }
    submit.disabled = true;
    bar.hidden = false;
    bar.removeAttribute('value');
    status.textContent = `Getting ${share}…`;
    try {
      // Only a folder is followed: a file is not written first to be
      // refused after.
      const st = await api('/stat', { params: { cid, peers: 'true' } });
      if (st.type !== 'dir') throw new Error(`${share} is a file, not a folder: only a folder is followed (get it from Files).`);
      if (had.checked) {
        const m = await api('/groups/mirror', { method: 'POST', params: { group: g.id, name: share, path, exclude: leaveOut } });
        status.textContent = `${m.path} follows ${share}: its newest version is being written in; files there that differ from the group's are kept.`;
        return;
      }
      const since = new Date().toISOString();
      const got = await events('/get', { cid, out: path, exclude: leaveOut }, (p) => {
        const pct = percent(p.bytes, p.total);
        if (pct !== null) bar.value = pct;
        status.textContent = [`Getting ${share}… ${bytes(p.bytes || 0)}${p.total ? ' of ' + bytes(p.total) : ''}`, ...pace(p.bytes, p.total, p.rate)].join(' · ');
      }, 'The get');
      // What this disk cannot hold (two names that differ only in case, a
      // link on FAT) was left out; a folder that syncs without it would
      // remove it on every device.
      const left = got.not_written || [];
      const leftOut = left.length ? ` Not written, as this disk cannot hold them: ${left.map((l) => `${l.path} (${l.why})`).join('; ')}.` : '';
      if (left.length && sync.checked) {
        status.textContent = `Wrote ${share} into ${got.path}, but it does not sync with ${g.name}: a folder that syncs must hold every entry.${leftOut}`;
        return;
      }
      try {
        if (sync.checked) {
          await api('/groups/sync', { method: 'POST', params: { group: g.id, name: share, path: got.path, cid: got.cid, since } });
          status.textContent = `Wrote ${share} into ${got.path}, ${bytes(got.size)}: it syncs both ways with ${g.name}.`;
          return;
        }
        await api('/groups/mirror', { method: 'POST', params: { group: g.id, name: share, path: got.path, cid: got.cid, exclude: leaveOut } });
        status.textContent = `Wrote ${share} into ${got.path}, ${bytes(got.size)}: it follows each newer version ${g.name} shares.${leftOut}`;
      } catch (err) {
        status.textContent = `Wrote ${share} into ${got.path}, but it does not follow ${g.name}: ${err.message}`;
      }
    } catch (err) {
      status.textContent = err.message;
    } finally {
      submit.disabled = false;
      bar.hidden = true;
      loadMirrors();
    }
  }

  async function loadMirrors() {
    let ms;
    try {
      ms = (await api('/groups/mirrors')).filter((m) => m.group === g.name);
    } catch (err) {
      replace(list, h('p', { class: 'error small' }, err.message));
      return;
    }
    if (!ms.length) {
      replace(list);
      return;
    }
    replace(list, h('h3', {}, 'Folders that follow a share'),
      h('ul', { class: 'plain', id: 'mirrors' }, ms.map((m) => h('li', { dataset: { path: m.path } },
        h('code', {}, m.path), ' ',
        h('span', { class: 'muted small' }, `${m.name}, written ${ago(m.updated)}`),
        m.exclude?.length ? h('div', { class: 'muted small exclude' }, `Leaves out ${m.exclude.join(', ')}`) : null,
        m.sync ? h('div', { class: 'muted small sync' }, 'Syncs both ways: what changes there is shared too.' + keptSentence(m.group, m.keep))
          : h('details', { class: 'leave-out small' }, h('summary', {}, 'Leave out…'), leaveOutForm(m)),
        m.conflicts?.length ? h('div', { class: 'warning small conflicts' },
          'Changed on two devices at once: the later change kept the name, the other is beside it (delete it once settled): ',
          m.conflicts.map((c, i) => [i ? ', ' : '', h('code', {}, c)])) : null,
        m.paused ? h('div', { class: 'warning small paused' }, m.sync
          ? 'Paused: what changes there is not shared, nor are newer versions written in, until you resume it.'
          : 'Paused: no newer version is written in until you resume it.') : null,
        m.pending ? h('div', { class: 'small pending' }, pendingText(m)) : null,
        m.error ? h('div', { class: 'warning small' }, m.error) : null,
        m.recent?.length ? recentChanges(m.recent) : null,
        m.kept_count ? h('div', { class: 'small kept' }, keptText(m), ' ',
          m.revert ? h('span', { class: 'muted' }, 'The group\'s version is being written over them…')
            : h('button', { type: 'button', class: 'small', dataset: { action: 'revert' }, onclick: () => revert(m) }, 'Write the group\'s over them')) : null, ' ',
        h('button', { type: 'button', class: 'small', dataset: { action: m.paused ? 'resume' : 'pause' },
          title: m.paused ? 'Catch up now' : 'Stop following (and sharing) it until you resume it: while you reorganise it, say',
          onclick: () => pauseFolder(m.path, !m.paused) }, m.paused ? 'Resume' : 'Pause'), ' ',
        h('button', { type: 'button', class: 'small', dataset: { action: 'unmirror' }, onclick: () => unmirror(m.path) }, 'Stop following')))));
  }

  async function pauseFolder(p, paused) {
    try {
      await setPaused(p, paused);
      status.textContent = paused ? `${p} is paused until you resume it.` : `${p} is resumed: it catches up now.`;
    } catch (err) {
      status.textContent = err.message;
    }
    loadMirrors();
  }

  // pendingText says what a newer version's update does, and how far it is.
  function pendingText(m) {
    const again = m.pending === m.cid && m.reapply; // what it leaves out changed
    const revert = m.pending === m.cid && !again; // the version it follows, written over changes
    if (again) {
      const what = { compare: 'Comparing the files there with the version', fetch: 'Fetching what is no longer left out', write: 'Writing what is no longer left out' }[m.phase];
      if (!what || !m.total) return 'Writing the version again, with what it leaves out now…';
      return `${what}: ${bytes(m.done || 0)} of ${bytes(m.total)} (${Math.floor(percent(m.done || 0, m.total))}%)`;
    }
    const what = (revert ? {
      compare: 'Comparing the files there with the group\'s version',
      fetch: 'Fetching the group\'s files changed there',
      write: 'Writing the group\'s version over what was changed there',
    } : {
      compare: 'Comparing the files there with a newer version',
      fetch: 'Fetching what a newer version changed',
      write: 'Writing a newer version in',
    })[m.phase];
    if (!what || !m.total) return revert ? 'Writing the group\'s version over what was changed there…' : 'Fetching and writing a newer version…';
    return `${what}: ${bytes(m.done || 0)} of ${bytes(m.total)} (${Math.floor(percent(m.done || 0, m.total))}%)`;
  }

  // revert writes the group's version over what was changed in the
  // folder, once the user said yes.
  async function revert(m) {
    const what = m.kept_count === 1 ? `${m.kept[0]}` : `the ${m.kept_count} files changed there`;
    if (!window.confirm(`Write ${g.name}'s ${m.name} over ${what}, in ${m.path}? Your changes to them are lost.`)) return;
    try {
      await api('/groups/mirror/revert', { method: 'POST', params: { path: m.path } });
      status.textContent = `Writing ${g.name}'s ${m.name} over what was changed in ${m.path}…`;
    } catch (err) {
      status.textContent = err.message;
    }
    loadMirrors();
  }

  // leaveOutForm changes what the followed folder m leaves out (kith
  // mirror add --exclude): the version it holds is written again.
  function leaveOutForm(m) {
    const input = h('input', { type: 'text', value: (m.exclude || []).join(', '), placeholder: '*.mov, /Raw/',
      spellcheck: 'false', autocomplete: 'off', 'aria-label': `What ${m.path} leaves out: names or patterns, comma-separated` });
    return h('form', { class: 'inline leave-out-form', onsubmit: async (e) => {
      e.preventDefault();
      const list = namePatterns(input.value);
      try {
        // An empty exclude= says "nothing" (no exclude at all would keep
        // what the folder leaves out); url() drops empty values.
        const got = await api('/groups/mirror' + (list.length ? '' : '?exclude='),
          { method: 'POST', params: { group: g.id, name: m.name, path: m.path, exclude: list } });
        status.textContent = got.exclude?.length
          ? `${got.path} now leaves out ${got.exclude.join(', ')}: what was written there of it goes (unless changed there), what it no longer leaves out is written.`
          : `${got.path} now leaves out nothing: what it left out is written in.`;
      } catch (err) {
        status.textContent = err.message;
      }
      loadMirrors();
    } }, input, h('button', { type: 'submit' }, 'Save'));
  }

  async function unmirror(p) {
    try {
      const m = await api('/groups/unmirror', { method: 'POST', params: { path: p } });
      status.textContent = `${m.path} no longer follows ${m.name}: its files stay as they are.`;
    } catch (err) {
      status.textContent = err.message;
    }
    loadMirrors();
  }

  const refresh = () => { loadNames(); loadMirrors(); };
  refresh();
  return { el: h('div', {}, form, list), refresh };
}

// keptText names the files changed here that the last update kept.
function keptText(m) {
  const named = [...(m.kept || [])];
  if (m.kept_count > named.length) named.push(`${m.kept_count - named.length} more`);
  return `Changed here, kept as they are (delete one to have the group's again): ${named.join(', ')}`;
}

// The Overview's "Needs attention" panel: what does not keep itself
// without you, in one place, as Syncthing's notices do: a disk nearly full
// (adds and fetches stop when it is), shares the group cannot keep as many
// copies of as asked (and why), folders a share follows that are gone or
// could not be shared again, folders that follow a share and could not be
// brought to its newer version, folders paused (and perhaps forgotten),
// groups that removed this device. Nothing
// shows while all is well. It is asked again when the groups change
// ("groups" events) and every 30 seconds.

import { api } from './api.js';
import { h, replace, section } from './dom.js';
import { bytes } from './format.js';
import * as live from './live.js';

const refreshEvery = 30000;
// At most this many lines of one kind; the rest are counted.
const maxLines = 5;
// Less free space than this on the repo's disk (what adds and fetches may
// still use) needs attention.
const lowDisk = 1 << 30;

/** attentionPanel returns {el, stop}. */
export function attentionPanel() {
  const el = h('div', { id: 'attention' });
  const load = live.coalesced(() => Promise.all([
    api('/groups/status/all'), api('/groups/watches'), api('/groups/ls'), api('/groups/mirrors'),
  ]).then(([statuses, watches, groups, mirrors]) => {
    const free = lowFree(live.state.stats);
    const lines = [
      free !== null ? h('li', { dataset: { kind: 'disk' } },
        `The repo's disk has ${bytes(free)} left for kith: adds and fetches stop when it runs out. `,
        h('code', {}, 'kith gc'), ' gives back the space of what is no longer pinned.') : null,
      ...capped(statuses.filter((st) => st.state === 'under-replicated').map(short), 'more shares are short of copies', '#/files'),
      ...capped(watches.filter((w) => w.error).map(watchLine), 'more followed folders have a problem', '#/groups'),
      ...capped(mirrors.filter((m) => m.error).map(mirrorLine), 'more folders that follow a share have a problem', '#/groups'),
      ...capped(pausedLines(watches, mirrors), 'more folders are paused', '#/groups'),
      ...groups.filter((g) => g.removed).map((g) => h('li', { dataset: { kind: 'removed' } },
        h('a', { href: '#/groups/' + encodeURIComponent(g.id) }, g.name), `: this device was ${g.removed}. Open it and leave it to clear this.`)),
    ];
    const shown = lines.filter(Boolean);
    replace(el, shown.length ? section('Needs attention', h('ul', { class: 'attention' }, shown)) : null);
    el.dataset.checked = new Date().toISOString(); // when it last looked
  }).catch(() => replace(el))); // the rest of the page says when the daemon is away
  load();
  const off = live.on('groups', load);
  // The free space comes with the stats, every second: the panel is
  // drawn again when it crosses the line, not every second.
  let wasLow = lowFree(live.state.stats) !== null;
  const offStats = live.on('stats', (s) => {
    const low = lowFree(s) !== null;
    if (low !== wasLow) load();
    wasLow = low;
  });
  const timer = setInterval(load, refreshEvery);
  return { el, stop: () => { off(); offStats(); clearInterval(timer); } };
}

// lowFree is the space left for kith on the repo's disk when it is low,
// else null.
function lowFree(stats) {
  const free = stats ? stats.disk_free : -1;
  return free >= 0 && free < lowDisk ? free : null;
}

// short is a share its group keeps fewer copies of than asked.
function short(st) {
  const held = st.holders.filter((x) => x.state === 'held').length;
  return h('li', { dataset: { kind: 'short', cid: st.cid } },
    h('a', { href: '#/files?group=' + encodeURIComponent(st.group) }, st.name || st.cid),
    ` in ${st.group}: ${held} of ${st.copies} ${st.copies === 1 ? 'copy' : 'copies'}`,
    st.reason ? ` (${st.reason})` : '', '.');
}

// watchLine is a followed folder whose last look or share failed.
function watchLine(w) {
  return h('li', { dataset: { kind: 'watch', path: w.path } },
    h('a', { href: '#/groups/' + encodeURIComponent(w.group) }, w.group), `: ${w.error}`);
}

// mirrorLine is a folder that follows a share and could not be brought
// to its group's newer version (or says why none is written).
function mirrorLine(m) {
  return h('li', { dataset: { kind: 'mirror', path: m.path } },
    h('a', { href: '#/groups/' + encodeURIComponent(m.group) }, m.group), `: ${m.error}`);
}

// pausedLines are the folders paused (kith mirror pause), each once: a
// paused folder is easily forgotten, and then nothing of it moves.
function pausedLines(watches, mirrors) {
  const seen = new Set();
  const lines = [];
  for (const f of [...mirrors, ...watches]) {
    if (!f.paused || seen.has(f.path)) continue;
    seen.add(f.path);
    const what = f.sync ? 'it does not sync' : f.name !== undefined ? 'newer versions are not written in' : 'its changes are not shared';
    lines.push(h('li', { dataset: { kind: 'paused', path: f.path } },
      h('a', { href: '#/groups/' + encodeURIComponent(f.group) }, f.group), `: ${f.path} is paused: ${what} until you resume it.`));
  }
  return lines;
}

// capped keeps maxLines lines and counts the rest in one more, linking to
// where they all show.
function capped(lines, more, href) {
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines),
    h('li', { class: 'muted' }, h('a', { href }, `${lines.length - maxLines} ${more}`), '.')];
}

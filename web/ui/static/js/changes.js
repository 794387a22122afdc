// Recent changes of a folder (kith mirror changes), as Syncthing lists
// them: what updates wrote in from the group and what this device's
// shares sent out, newest first, each with the device that made it; and
// the Overview's list of the last ones in every folder (Syncthing's
// Recent Changes), asked again when the groups change ("groups" events:
// an update written, a share sent) and every 30 seconds.

import { api } from './api.js';
import { h, replace, section } from './dom.js';
import { ago, shortId } from './format.js';
import * as live from './live.js';
import { baseName } from './localpath.js';

const what = { written: 'Written', removed: 'Removed', moved: 'Moved', conflict: 'Conflict copy' };

/** recentChanges is the folded list of a folder's recent changes. */
export function recentChanges(changes) {
  return h('details', { class: 'recent small' },
    h('summary', {}, `Recent changes (${changes.length})`),
    h('ul', { class: 'plain' }, changes.map((c) => h('li', { dataset: { what: c.what, here: c.here ? 'yes' : 'no' } },
      `${what[c.what] || c.what} `, h('code', {}, c.path),
      h('span', { class: 'muted' }, [by(c), ago(c.at)].filter(Boolean).map((s) => ' · ' + s).join(''))))));
}

// by names the device that made the change: this one, else the member by
// its name, or its ID ("" when the group no longer says).
function by(c) {
  if (c.here) return 'by this device';
  if (c.by) return 'by ' + c.by;
  return c.by_id ? 'by ' + shortId(c.by_id) : '';
}

// The Overview lists this many of the newest changes.
const overviewShown = 10;
const refreshEvery = 30000;

/** recentPanel is the Overview's last changes in every folder: {el, stop}. */
export function recentPanel() {
  const el = h('div', { id: 'recent' });
  const load = live.coalesced(() => Promise.all([api('/groups/mirrors'), api('/groups/watches')]).then(([mirrors, watches]) => {
    // Each folder once: a folder that syncs is a mirror and a watch, and
    // its mirror lists both sides' changes.
    const rows = [];
    const seen = new Set();
    for (const f of [...mirrors, ...watches]) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      for (const c of f.recent || []) rows.push({ ...c, folder: f.path, group: f.group });
    }
    rows.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
    const shown = rows.slice(0, overviewShown);
    replace(el, shown.length ? section('Recent changes',
      h('ul', { class: 'plain recent' }, shown.map((c) => h('li', { dataset: { what: c.what, here: c.here ? 'yes' : 'no' } },
        `${what[c.what] || c.what} `, h('code', {}, c.path), ' in ',
        h('a', { href: '#/groups/' + encodeURIComponent(c.group), title: c.folder }, baseName(c.folder)),
        h('span', { class: 'muted' }, [by(c), ago(c.at)].filter(Boolean).map((s) => ' · ' + s).join(''))))),
      h('p', { class: 'muted small' }, 'Each folder\'s own list is on its group\'s page; ', h('code', {}, 'kith mirror changes'), ' lists them all.')) : null);
  }).catch(() => replace(el))); // the rest of the page says when the daemon is away
  load();
  const off = live.on('groups', load);
  const timer = setInterval(load, refreshEvery);
  return { el, stop: () => { off(); clearInterval(timer); } };
}

// Recent changes of a folder (kith mirror changes), as Syncthing lists
// them: what updates wrote in from the group and what this device's
// shares sent out, newest first, each with the device that made it.

import { h } from './dom.js';
import { ago, shortId } from './format.js';

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

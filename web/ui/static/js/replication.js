// Replication of pins shared into groups, for the Files page. The daemon
// answers per CID (GET /api/v1/groups/status?cid=), so each CID is asked
// once per page load, and only when some group has something shared.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { shortId } from './format.js';

// parallel bounds the status requests in flight at once.
const parallel = 4;

/** tracker remembers statuses for one page load. */
export function tracker() {
  const known = new Map(); // cid -> [status] (empty: not shared)
  let shared = null; // promise: does any group share anything?

  /** fill asks for the statuses of pins not asked yet and fills their cells. */
  async function fill(pins, cellOf) {
    if (!shared) {
      shared = api('/groups/ls').then((gs) => gs.some((g) => g.intents > 0)).catch(() => false);
    }
    if (!(await shared)) return;
    const todo = pins.filter((p) => !known.has(p.cid));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const p = todo[next++];
        try {
          known.set(p.cid, await api('/groups/status', { params: { cid: p.cid } }));
        } catch {
          known.set(p.cid, []); // not shared in any group (or not answerable now)
        }
        const td = cellOf(p.cid);
        if (td) show(td, p, known.get(p.cid));
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
    for (const p of pins) {
      const td = cellOf(p.cid);
      if (td && known.has(p.cid)) show(td, p, known.get(p.cid));
    }
  }
  return { fill };
}

/** show writes a pin's replication into its table cell. */
function show(td, pin, statuses) {
  if (!statuses.length) {
    replace(td, pin.replication || 'local only');
    return;
  }
  replace(td, statuses.map((st) => {
    const held = st.holders.filter((x) => x.state === 'held');
    const names = held.map((x) => x.name || shortId(x.peer));
    const short = held.length < st.copies;
    return h('div', { class: 'group-copies', dataset: { group: st.group, state: st.state }, title: st.reason || st.state },
      h('span', { class: 'copies' + (short ? ' short' : '') }, `${held.length} of ${st.copies} copies`),
      statuses.length > 1 || st.group ? h('span', { class: 'muted' }, ` in ${st.group}`) : null,
      names.length ? h('span', { class: 'holders muted small' }, names.join(', ')) : null,
      short && st.reason ? h('span', { class: 'holders small warning' }, st.reason) : null);
  }));
}

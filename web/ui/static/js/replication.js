// Replication of pins shared into groups, for the Files page. One request
// (GET /api/v1/groups/status/all) answers for every shared root, whatever
// the number of pins.

import { h, replace } from './dom.js';
import { shortId } from './format.js';

/**
 * fill writes into the pins' cells (cellOf) the statuses that GET
 * /groups/status/all answered, null when it failed: the cells keep what
 * they say. It returns whether any of them is still moving (copies being
 * placed, fetched or released, or too few), which is worth asking again.
 */
export function fill(pins, cellOf, all) {
  if (!all) return false;
  const byCid = new Map();
  for (const st of all) {
    if (!byCid.has(st.cid)) byCid.set(st.cid, []);
    byCid.get(st.cid).push(st);
  }
  let moving = false;
  for (const p of pins) {
    const td = cellOf(p.cid);
    const sts = byCid.get(p.cid) || [];
    if (td) show(td, p, sts);
    if (td && sts.some((st) => st.state !== 'held')) moving = true;
  }
  return moving;
}

/** show writes a pin's replication into its table cell. */
function show(td, pin, statuses) {
  if (!statuses.length) {
    replace(td, pin.replication || 'local only');
    return;
  }
  replace(td, statuses.map((st) => {
    const held = st.holders.filter((x) => x.state === 'held');
    const names = held.map((x) => (x.self ? 'this device' : x.name || shortId(x.peer)));
    const short = held.length < st.copies;
    return h('div', { class: 'group-copies', dataset: { group: st.group, state: st.state }, title: st.reason || st.state },
      h('span', { class: 'copies' + (short ? ' short' : '') }, `${held.length} of ${st.copies} ${st.copies === 1 ? 'copy' : 'copies'}`),
      statuses.length > 1 || st.group ? h('span', { class: 'muted' }, ` in ${st.group}`) : null,
      names.length ? h('span', { class: 'holders muted small' }, names.join(', ')) : null,
      // checking: a member not heard from since the daemon started, not short.
      short && st.reason ? h('span', { class: 'holders small ' + (st.state === 'checking' ? 'muted' : 'warning') }, st.reason) : null);
  }));
}

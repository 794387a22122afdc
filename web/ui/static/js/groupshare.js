// Sharing in a group from the page, as `kith share` and `kith unshare` do:
// the groups a pinned root is shared in (how many copies each keeps, the
// folder the share follows if it was made with --watch, with a Stop
// sharing button that asks in place and Stop following), and a form that
// asks one more of your groups to keep N copies of it.

import { api, setPaused } from './api.js';
import { h, replace } from './dom.js';

/** Copies a group can be asked for (protocol/group's MinCopies, MaxCopies). */
export const minCopies = 1;
export const maxCopies = 16;

/**
 * groupShareBox shows, for the root cid named name, its group shares and
 * the form to share it in another group. onChange runs after a share or
 * an unshare. Without any group it says how to get one, unless
 * quietWithoutGroups (a page showing many boxes at once).
 */
export function groupShareBox(cid, name, { onChange = () => {}, quietWithoutGroups = false } = {}) {
  const box = h('div', { class: 'group-share' }, h('p', { class: 'muted small' }, 'Loading your groups…'));
  const status = h('p', { class: 'status small', role: 'status', 'aria-live': 'polite' });
  const label = name || cid;

  async function load() {
    let groups;
    let shares = [];
    let watches = [];
    try {
      groups = await api('/groups/ls');
      shares = (await api('/groups/status/all')).filter((s) => s.cid === cid);
      // A share that follows its folder (kith share --watch) says so.
      watches = (await api('/groups/watches').catch(() => [])).filter((w) => w.cid === cid);
    } catch (err) {
      replace(box, h('p', { class: 'error small' }, err.message));
      return;
    }
    groups = groups.filter((g) => !g.removed);
    const sharedIn = new Set(shares.map((s) => s.group));
    const others = groups.filter((g) => !sharedIn.has(g.name));
    if (groups.length === 0 && quietWithoutGroups) {
      box.remove();
      return;
    }
    replace(box,
      shares.map((sh) => shareLine(sh, watches.find((w) => w.group === sh.group))),
      groups.length === 0
        ? h('p', { class: 'muted small no-groups' }, 'To keep copies on your other devices, ',
          h('a', { href: '#/groups' }, 'create or join a group'), '.')
        : others.length ? shareForm(others) : null,
      status);
  }

  // shareLine is one group that shares the root, with Stop sharing; and,
  // when the share follows a folder (watch), which one, with Stop following.
  function shareLine(s, watch) {
    const line = h('div', { class: 'shared-in', dataset: { group: s.group } });
    const what = `Shared in ${s.group}: keeps ${s.copies} ${s.copies === 1 ? 'copy' : 'copies'}`;
    const follows = watch ? h('span', { class: 'small muted follows', title: 'Shared again whenever the folder changes' },
      `· follows ${watch.path}`, watch.paused ? h('span', { class: 'warning paused' }, ' (paused: its changes are not shared)') : null,
      watch.error ? h('span', { class: 'warning' }, ` (${watch.error})`) : null) : null;
    const pause = watch ? h('button', { type: 'button', class: 'small', dataset: { action: watch.paused ? 'resume' : 'pause' },
      onclick: () => pauseFolder(watch.path, !watch.paused) }, watch.paused ? 'Resume' : 'Pause') : null;
    const unfollow = watch ? h('button', { type: 'button', class: 'small', dataset: { action: 'unwatch' },
      onclick: () => unwatch(s.group, watch.path) }, 'Stop following') : null;
    const idle = () => replace(line,
      h('span', { class: 'small' }, what), follows,
      h('button', { type: 'button', class: 'small', dataset: { action: 'unshare' }, onclick: ask }, 'Stop sharing…'),
      pause, unfollow);
    const ask = () => {
      const confirmBtn = h('button', { type: 'button', class: 'small danger', dataset: { action: 'unshare-confirm' },
        onclick: () => unshare(s.group) }, `Stop sharing in ${s.group}`);
      replace(line,
        h('span', { class: 'warning small', role: 'alert' },
          `${s.group} stops keeping copies of ${label}: its members release theirs. Your own pin stays.`),
        confirmBtn,
        h('button', { type: 'button', class: 'small', onclick: idle }, 'Cancel'));
      confirmBtn.focus();
    };
    idle();
    return line;
  }

  // shareForm asks one of groups to keep copies.
  function shareForm(groups) {
    const select = h('select', { class: 'share-group', 'aria-label': 'Group' },
      groups.map((g) => h('option', { value: g.name }, g.name)));
    const copies = h('input', { type: 'number', class: 'share-copies', min: minCopies, max: maxCopies, value: 2,
      required: true, 'aria-label': 'Copies' });
    return h('form', { class: 'share-form', onsubmit: (e) => { e.preventDefault(); share(select.value, copies.valueAsNumber); } },
      h('span', { class: 'small' }, 'Keep '), copies,
      h('span', { class: 'small' }, ' copies among the members of '), select, ' ',
      h('button', { type: 'submit', class: 'small' }, 'Share in group'));
  }

  async function share(group, copies) {
    status.textContent = `Sharing ${label} in ${group}…`;
    try {
      const in_ = await api('/groups/share', { method: 'POST', params: { group, cid, copies } });
      await load();
      status.textContent = sharedSentence(in_, label);
      onChange();
    } catch (err) {
      status.textContent = err.message;
    }
  }

  // pauseFolder pauses (or resumes) the folder a share follows (kith
  // watch pause).
  async function pauseFolder(path, paused) {
    try {
      await setPaused(path, paused);
      await load();
      status.textContent = paused ? `${path} is paused: its changes are not shared until you resume it.` : `${path} is resumed: what changed there is shared now.`;
    } catch (err) {
      status.textContent = err.message;
    }
  }

  async function unwatch(group, path) {
    try {
      await api('/groups/unwatch', { method: 'POST', params: { group, path } });
      await load();
      status.textContent = `${group} keeps this version of ${label}; ${path} is no longer followed.`;
    } catch (err) {
      status.textContent = err.message;
    }
  }

  async function unshare(group) {
    status.textContent = `Stopping the share of ${label} in ${group}…`;
    try {
      await api('/groups/unshare', { method: 'POST', params: { group, cid } });
      await load();
      status.textContent = `${group} no longer keeps copies of ${label}; your own pin stays.`;
      onChange();
    } catch (err) {
      status.textContent = err.message;
    }
  }

  load();
  return box;
}

/**
 * sharedSentence says what a share did, from the answer of groups/share:
 * how many copies the group keeps, fewer while it has fewer members, and
 * the earlier versions of the same name it keeps too (a folder added
 * again after it changed), which stay until stopped from their own rows.
 */
export function sharedSentence(in_, label) {
  let said = `Shared ${label} in ${in_.group}: it keeps ${in_.copies} ${in_.copies === 1 ? 'copy' : 'copies'}.`;
  if (in_.members > 0 && in_.members < in_.copies) {
    said += ` ${in_.group} has ${in_.members} member${in_.members === 1 ? '' : 's'}, so it keeps ${in_.members} until more join.`;
  }
  const earlier = (in_.earlier || []).length;
  if (earlier) {
    said += earlier === 1
      ? ` ${in_.group} also keeps an earlier version of ${label}: Stop sharing it from its own row to keep only this one.`
      : ` ${in_.group} also keeps ${earlier} earlier versions of ${label}: Stop sharing them from their own rows to keep only this one.`;
  }
  return said;
}

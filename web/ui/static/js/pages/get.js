// Get: paste a CID or a share ticket (maybe with a path into it); the
// daemon fetches and pins it in the background, so the progress shown here
// survives reloading or closing the page.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, replace } from '../dom.js';
import { bytes, duration, percent, rate, shortId } from '../format.js';
import * as live from '../live.js';
import { uploadsSection } from '../uploads.js';

export const title = 'Get';

/**
 * ref reads what was pasted: a CID, a ticket or a name (/ipns/NAME, an
 * IPNS name or a DNSLink domain), maybe followed by a path into its folder
 * (CID/a/b.jpg, /ipfs/CID/a/b.jpg), or a gateway's link to one of those. Whitespace goes from
 * the CID or ticket (a ticket may come wrapped over lines), line breaks
 * from the path (its names may hold spaces). It is checked only loosely,
 * the daemon says what is wrong in detail: a ticket starts with kith1, a
 * short code is a number and three words (7961-orbit-canyon-velvet),
 * anything else must look like a CID.
 */
export function ref(text) {
  // A short code (kith send's): its sender gives the ticket.
  if (/^\d{4}([\s-]+[A-Za-z]{3,8}){3}$/.test(text.trim())) {
    return { value: text.trim().toLowerCase().split(/[\s-]+/).join('-'), code: true };
  }
  // A gateway's link (https://ipfs.io/ipfs/CID/..., https://CID.ipfs.dweb.link/...):
  // the daemon reads the CID or name in it and never asks that gateway.
  if (/^https?:\/\//i.test(text.trim())) {
    const value = text.trim().replace(/[\r\n]+/g, '');
    if (!/^https?:\/\/([^/?#]*\.ip[fn]s\.|[^/?#]*\/ip[fn]s\/)/i.test(value)) return { value, problem: pasteThis };
    return { value, name: /^https?:\/\/([^/?#]*\.ipns\.|[^/?#]*\/ipns\/)/i.test(value) };
  }
  // A name (IPNS or DNSLink, as in IPFS): the daemon looks it up.
  const name = text.trim().match(/^(?:\/ipns\/|ipns:\/\/)([^/\s]+)(.*)$/s);
  if (name) return { value: '/ipns/' + name[1] + name[2].replace(/[\r\n]+/g, ''), name: true };
  const s = text.trim().replace(/^\/ipfs\//, '').replace(/^ipfs:\/\//, '');
  const slash = s.indexOf('/');
  const root = (slash < 0 ? s : s.slice(0, slash)).replace(/\s+/g, '');
  const value = root + (slash < 0 ? '' : s.slice(slash).replace(/[\r\n]+/g, ''));
  if (root.startsWith('kith1')) return { value, ticket: true };
  if (/^[A-Za-z0-9]+$/.test(root)) return { value, ticket: false };
  return { value, problem: pasteThis };
}

const pasteThis = 'Paste a CID (bafy… or Qm…), a share ticket (kith1…), a code (7961-orbit-canyon-velvet) or a name (/ipns/k51… or /ipns/example.org), maybe followed by a path in it (CID/folder/file), or a gateway\'s link to one.';

export function render(main, _arg, query) {
  const cidInput = h('input', { id: 'get-cid', name: 'cid', type: 'text', required: true, spellcheck: 'false',
    autocomplete: 'off', placeholder: 'bafy…, kith1…, 7961-orbit-canyon-velvet, /ipns/…, or CID/path/in/it', value: query.get('cid') || '' });
  const nameInput = h('input', { id: 'get-name', name: 'name', type: 'text', autocomplete: 'off', placeholder: 'optional' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Get');
  const status = h('p', { class: 'status', id: 'get-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'get-form', id: 'get-form' },
    h('div', { class: 'field wide' }, h('label', { for: 'get-cid' }, 'CID, ticket, code or name'), cidInput),
    h('div', { class: 'field' }, h('label', { for: 'get-name' }, 'Name'), nameInput),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = ref(cidInput.value);
    status.classList.remove('error');
    if (r.problem) {
      status.textContent = r.problem;
      status.classList.add('error');
      return;
    }
    submit.disabled = true;
    try {
      let cid = r.value;
      if (r.code) {
        // The code goes in the body, never a URL: it is a password.
        status.textContent = 'Looking for the sender of the code (up to a minute)…';
        cid = (await api('/codes/resolve', { method: 'POST', body: r.value })).ticket;
      }
      // A ticket's peers are dialled before the daemon answers.
      if (r.name) status.textContent = 'Looking up the name (up to a minute)…';
      else status.textContent = r.ticket || r.code ? 'Reaching the peers in the ticket…' : 'Starting…';
      const job = await api('/jobs/fetch', { method: 'POST', params: { cid, name: nameInput.value.trim() } });
      live.addJob(job);
      status.textContent = '';
      cidInput.value = '';
      nameInput.value = '';
    } catch (err) {
      status.textContent = err.message;
      status.classList.add('error');
    } finally {
      submit.disabled = false;
    }
  });

  const list = h('ol', { class: 'jobs', id: 'jobs', 'aria-label': 'Downloads' });
  replace(main, h('h1', {}, 'Get'),
    h('section', { class: 'card' }, form, status,
      h('p', { class: 'muted' }, 'A ticket (from a friend\'s Files page or ', h('code', {}, 'kith add'),
        ') also names the peers that have it, so they are dialled first. A code (from a friend\'s ', h('code', {}, 'kith send'),
        ') finds their computer while their send runs. A name (', h('code', {}, '/ipns/k51…'), ' or ', h('code', {}, '/ipns/example.org'),
        ', as in IPFS) gets what it points to now. A gateway\'s link (', h('code', {}, 'https://ipfs.io/ipfs/…'),
        ') works too: the content comes from peers, not from that gateway. ',
        'The transfer runs in the daemon: you can reload or close this page and come back.')),
    h('h2', {}, 'Downloads'), list);
  const uploads = uploadsSection();
  main.append(uploads.el);

  const draw = () => {
    // Cards are redrawn on every update; keep keyboard focus where it was.
    const focused = document.activeElement;
    const card = focused && list.contains(focused) ? focused.closest('[data-id]') : null;
    const again = card ? [card.dataset.id, focused.dataset.action] : null;
    const jobs = [...live.state.jobs.values()].sort((a, b) => (a.started < b.started ? 1 : -1));
    if (jobs.length === 0) replace(list, h('li', { class: 'muted' }, 'No downloads yet.'));
    else replace(list, jobs.map(jobCard));
    if (again) {
      // Pause and Resume swap places: focus the card's first action then.
      const sel = `[data-id="${CSS.escape(again[0])}"]`;
      const el = list.querySelector(`${sel} [data-action="${CSS.escape(again[1] || '')}"]`) || list.querySelector(`${sel} .actions button`);
      if (el) el.focus();
    }
  };
  draw();
  // The stream pushes changes; GET /jobs covers the moment before it connects.
  api('/jobs').then((js) => { js.forEach(live.addJob); draw(); }).catch(() => {});
  const off = live.on('jobs', draw);
  return () => { off(); uploads.stop(); };
}

function jobCard(j) {
  const name = j.name || shortId(j.cid);
  const pct = j.state === 'done' ? 100 : percent(j.bytes, j.total);
  const bar = h('progress', { max: 100, 'aria-label': 'Progress of ' + name });
  if (pct !== null) bar.value = pct;
  return h('li', { class: 'job card', dataset: { id: j.id, cid: j.cid, state: j.state } },
    h('div', { class: 'row' },
      h('strong', { class: 'name' }, name),
      h('span', { class: 'badge ' + badgeClass(j.state) }, stateText(j))),
    h('div', { class: 'muted small' }, h('code', {}, j.cid), ' ', copyButton(j.cid)),
    j.state === 'running' || j.state === 'paused' || j.state === 'done' ? bar : null,
    h('p', { class: 'detail' }, detail(j, pct)),
    j.state === 'failed' ? failure(j) : null,
    actions(j));
}

function stateText(j) {
  if (j.state === 'running') return { searching: 'Searching', waiting: 'Waiting for peers' }[j.phase] || 'Fetching';
  return { paused: 'Paused', done: 'Done', failed: 'Failed', canceled: 'Cancelled' }[j.state] || j.state;
}

function badgeClass(state) {
  return { paused: 'warn', done: 'ok', failed: 'bad', canceled: 'warn' }[state] || 'info';
}

function detail(j, pct) {
  switch (j.state) {
    case 'running': {
      if (j.phase === 'searching' && !j.bytes) return 'Looking for peers that have it…';
      if (j.phase === 'waiting') {
        // The peers it fetched from went away, or the daemon restarted.
        return 'No peer that has the rest is reachable now; '
          + `it goes on when one connects (${bytes(j.bytes)}${j.total ? ' of ' + bytes(j.total) : ''} here).`;
      }
      const left = j.total > j.bytes && j.rate > 0 ? (j.total - j.bytes) / j.rate : NaN;
      return [
        pct !== null ? `${pct.toFixed(0)}%` : null,
        `${bytes(j.bytes)}${j.total ? ' of ' + bytes(j.total) : ''}`,
        rate(j.rate),
        isFinite(left) ? 'about ' + duration(left) + ' left' : null,
        `${j.peers} peer${j.peers === 1 ? '' : 's'} serving`,
        j.have > 0 ? `resumed: ${bytes(j.have)} were already here` : null,
      ].filter(Boolean).join(' · ');
    }
    case 'paused':
      return `Paused${pct !== null ? ' at ' + pct.toFixed(0) + '%' : ''}: ${bytes(j.bytes)}${j.total ? ' of ' + bytes(j.total) : ''} here. `
        + 'Resume fetches only the rest, also after the daemon restarts.';
    case 'done': return `Fetched and pinned, ${bytes(j.size || j.total)}.`;
    case 'canceled': return 'Cancelled. Getting it again resumes from the blocks already fetched.';
    default: return '';
  }
}

function failure(j) {
  return h('div', { class: 'failure', role: 'alert' },
    h('p', { class: 'reason' }, j.reason || 'The transfer failed.'),
    h('p', { class: 'muted small' },
      `${j.connected} peer${j.connected === 1 ? '' : 's'} connected, ${j.providers} provider${j.providers === 1 ? '' : 's'} found in the DHT.`),
    j.error ? h('details', {}, h('summary', {}, 'Details'), h('code', {}, j.error)) : null);
}

function actions(j) {
  const cancel = async () => {
    try { await api('/jobs/cancel', { method: 'POST', params: { id: j.id } }); } catch { /* shown by the stream */ }
  };
  // The stream brings the job's new state (the card is redrawn); a refusal
  // (the job changed meanwhile) is shown under the buttons until then.
  const move = (action) => async (e) => {
    const button = e.currentTarget;
    const card = button.closest('li');
    button.disabled = true;
    try {
      await api('/jobs/' + action, { method: 'POST', params: { id: j.id } });
    } catch (err) {
      const old = card.querySelector('.action-error');
      if (old) old.remove();
      card.append(h('p', { class: 'error action-error', role: 'alert' }, err.message));
      button.disabled = false;
    }
  };
  const button = (action, label, onclick) => h('button', { type: 'button', class: 'small', dataset: { action }, onclick }, label);
  const retry = async () => {
    try { live.addJob(await api('/jobs/fetch', { method: 'POST', params: { cid: j.cid, name: j.name } })); } catch { /* idem */ }
  };
  const open = '#/open/' + encodeURIComponent(j.cid) + (j.name ? '?name=' + encodeURIComponent(j.name) : '');
  switch (j.state) {
    case 'running':
      return h('div', { class: 'actions' }, button('pause', 'Pause', move('pause')), button('cancel', 'Cancel', cancel));
    case 'paused':
      return h('div', { class: 'actions' }, button('resume', 'Resume', move('resume')), button('cancel', 'Cancel', cancel));
    case 'done':
      return h('div', { class: 'actions' },
        h('a', { class: 'button small', href: open, dataset: { action: 'open' } }, 'Open'),
        h('a', { class: 'button small', href: gatewayURL(j.cid, { name: j.name, download: true }), download: j.name || j.cid, dataset: { action: 'download' } }, 'Download'));
    default:
      return h('div', { class: 'actions' }, h('button', { type: 'button', class: 'small', dataset: { action: 'retry' }, onclick: retry }, 'Try again'));
  }
}

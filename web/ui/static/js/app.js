// The web UI's shell: signs-in check, navigation between pages (the part of
// the URL after #), and the live connection indicator. Each page is a
// module with render(main, arg, query) returning an optional cleanup.

import { api, onSignedOut } from './api.js';
import { h, replace } from './dom.js';
import * as live from './live.js';
import * as overview from './pages/overview.js';
import * as files from './pages/files.js';
import * as add from './pages/add.js';
import * as get from './pages/get.js';
import * as peers from './pages/peers.js';
import * as groups from './pages/groups.js';
import * as preview from './pages/preview.js';

const pages = { overview, files, add, get, peers, groups, open: preview };
const main = document.getElementById('main');
let cleanup = null;
let signedIn = false;

/** route renders the page the location's hash names: #/page/arg?query. */
function route() {
  const hash = location.hash || '#/overview';
  if (!hash.startsWith('#/')) return; // an in-page anchor such as #main
  const [pathPart, queryPart] = hash.slice(2).split('?');
  const [name, ...rest] = pathPart.split('/');
  const page = pages[name] || overview;
  for (const a of document.querySelectorAll('nav a')) {
    const current = a.dataset.page === (page === preview ? 'files' : name || 'overview');
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (cleanup) cleanup();
  cleanup = null;
  if (!signedIn) return;
  replace(main);
  document.title = (page.title || 'kith') + ' · kith';
  cleanup = page.render(main, decodeURIComponent(rest.join('/')), new URLSearchParams(queryPart || '')) || null;
}

/** showSignedOut explains how to sign in: the page never holds the token. */
function showSignedOut() {
  signedIn = false;
  if (cleanup) cleanup();
  cleanup = null;
  replace(main,
    h('section', { class: 'card signin' },
      h('h1', {}, 'Sign in to this kith daemon'),
      h('p', {}, 'This browser is not signed in. In a terminal on this computer, run:'),
      h('pre', {}, h('code', {}, 'kith ui')),
      h('p', {}, 'It opens a one-time link that signs this browser in. The link works once, for two minutes.')));
}

function showConnection(ok) {
  const el = document.getElementById('live');
  el.textContent = ok ? 'Live' : 'Reconnecting…';
  el.className = 'live ' + (ok ? 'ok' : 'down');
}

async function start() {
  onSignedOut(showSignedOut);
  window.addEventListener('hashchange', () => {
    route();
    main.focus({ preventScroll: true });
  });
  try {
    await api('/id');
  } catch (err) {
    if (err.status === 401) {
      showSignedOut();
      return;
    }
    replace(main, h('p', { class: 'error', role: 'alert' }, err.message));
    return;
  }
  signedIn = true;
  live.on('connection', showConnection);
  live.connect();
  route();
}

start();

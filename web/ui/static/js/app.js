// The web UI's shell: sign-in (session.js), navigation between pages (the
// part of the URL after #), the live connection indicator and "Sign out
// everywhere". Each page is a module with render(main, arg, query)
// returning an optional cleanup.

import { api } from './api.js';
import { h, replace } from './dom.js';
import * as live from './live.js';
import * as session from './session.js';
import * as overview from './pages/overview.js';
import * as files from './pages/files.js';
import * as add from './pages/add.js';
import * as get from './pages/get.js';
import * as peers from './pages/peers.js';
import * as groups from './pages/groups.js';
import * as settings from './pages/settings.js';
import * as preview from './pages/preview.js';

const pages = { overview, files, add, get, peers, groups, settings, open: preview };
const main = document.getElementById('main');
const signOutButton = document.getElementById('signout');
let cleanup = null;
let signedIn = false;
let signedOutShown = false;

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

// What the signed-out page says, by why the page has no session.
const signedOutText = {
  none: ['Sign in to this kith daemon', 'This browser tab is not signed in.'],
  ended: ['Signed out', 'This browser is no longer signed in: the daemon restarted, or the session expired or was ended.'],
  everywhere: ['Signed out everywhere', 'Every browser signed in to this daemon is now signed out.'],
};

/**
 * showSignedOut explains how to sign in (the page never holds the API
 * token). reason is a key of signedOutText, or 'code' with the sentence
 * saying why a sign-in link did not work.
 */
function showSignedOut(reason, message) {
  if (signedOutShown) return; // the first reason given is the one to tell
  signedOutShown = true;
  signedIn = false;
  live.disconnect();
  if (cleanup) cleanup();
  cleanup = null;
  signOutButton.hidden = true;
  const indicator = document.getElementById('live');
  indicator.textContent = '';
  indicator.className = 'live';
  const [title, why] = reason === 'code' ? ['This sign-in link did not work', message] : signedOutText[reason] || signedOutText.none;
  document.title = title + ' · kith';
  replace(main,
    h('section', { class: 'card signin', dataset: { reason } },
      h('h1', {}, title),
      h('p', {}, why, ' To sign in, run this in a terminal on this computer:'),
      h('pre', {}, h('code', {}, 'kith ui')),
      h('p', { class: 'muted' }, 'It opens the web UI in your browser, signed in. A sign-in lasts until the daemon restarts, for 12 hours without use, and for 7 days at most.')));
}

function showConnection(ok) {
  if (!signedIn) return;
  const el = document.getElementById('live');
  el.textContent = ok ? 'Live' : 'Reconnecting…';
  el.className = 'live ' + (ok ? 'ok' : 'down');
}

async function signOutEverywhere() {
  signOutButton.disabled = true;
  try {
    await api('/ui/revoke', { method: 'POST' });
    session.signedOutEverywhere();
  } catch (err) {
    if (err.status !== 401) {
      signOutButton.textContent = 'Sign-out failed';
      signOutButton.title = err.message;
    }
  } finally {
    signOutButton.disabled = false;
  }
}

/**
 * begin signs the page in: with the code of a sign-in link when the
 * address carries one, else with this tab's session or another tab's.
 */
async function begin() {
  signedOutShown = false;
  const code = session.takeCode();
  if (code) {
    try {
      await session.signIn(code);
    } catch (err) {
      showSignedOut('code', err.message);
      return;
    }
  } else if (!session.has()) {
    await session.borrow();
  }
  if (!session.has()) {
    showSignedOut('none');
    return;
  }
  try {
    await api('/id');
  } catch (err) {
    if (err.status !== 401) replace(main, h('p', { class: 'error', role: 'alert' }, err.message));
    return; // a refused session shows the signed-out page by itself
  }
  signedIn = true;
  signOutButton.hidden = false;
  signOutButton.textContent = 'Sign out everywhere';
  signOutButton.removeAttribute('title');
  live.disconnect(); // a stream opened with an earlier session
  live.connect();
  route();
}

function start() {
  session.onSignedOut(showSignedOut);
  live.on('connection', showConnection);
  signOutButton.addEventListener('click', signOutEverywhere);
  window.addEventListener('hashchange', () => {
    // A sign-in link opened in a tab already showing the UI changes only
    // the fragment: the page does not reload.
    if (location.hash.startsWith('#signin=')) {
      begin();
      return;
    }
    route();
    main.focus({ preventScroll: true });
  });
  begin();
}

start();

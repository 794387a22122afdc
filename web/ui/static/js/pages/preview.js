// Open: preview a file (image, text, web page, PDF, audio, video) or list
// a folder. Content comes from the subdomain gateway
// (http://CID.ipfs.localhost:PORT/), where every CID is an origin of its
// own: shared HTML, SVG or a PDF runs there, never with this page's
// origin, so it cannot reach the session or the API. What this daemon
// does not hold (a group member's file) streams from peers as the browser
// reads it: a video plays at once and a seek fetches only what it needs.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, errorBox, replace } from '../dom.js';
import { bytes, shortId } from '../format.js';
import { longList } from '../longlist.js';

export const title = 'Open';

const kinds = {
  image: ['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'bmp', 'ico'],
  video: ['mp4', 'm4v', 'webm', 'ogv', 'mov'],
  audio: ['mp3', 'm4a', 'ogg', 'oga', 'opus', 'wav', 'flac', 'aac'],
  pdf: ['pdf'],
  page: ['html', 'htm', 'xhtml'],
  text: ['txt', 'md', 'markdown', 'json', 'csv', 'tsv', 'log', 'xml', 'yaml', 'yml', 'toml', 'ini', 'go', 'js', 'mjs',
    'ts', 'py', 'rs', 'c', 'h', 'cpp', 'java', 'sh', 'css', 'sql', 'diff', 'patch'],
};

/** kindOf guesses how to preview a file from its name's extension. */
export function kindOf(name) {
  const ext = (name || '').split('.').pop().toLowerCase();
  for (const [kind, exts] of Object.entries(kinds)) if (exts.includes(ext)) return kind;
  return name && name.includes('.') ? 'other' : 'unknown';
}

export function render(main, cid, query) {
  const name = query.get('name') || '';
  const body = h('div', { class: 'preview', id: 'preview' }, h('p', { class: 'muted' }, 'Loading…'));
  replace(main,
    h('p', {}, h('a', { href: '#/files' }, '← Files')),
    h('h1', { class: 'name' }, name || shortId(cid)),
    h('p', { class: 'muted small' }, h('code', {}, cid), ' ', copyButton(cid)),
    body);
  // peers: content this daemon does not hold is described from peers.
  api('/stat', { params: { cid, peers: true } })
    .then((st) => {
      if (st.type === 'dir') folder(body, cid, name);
      else if (st.type === 'symlink') symlink(body, st);
      else file(body, cid, name, st);
    })
    .catch((err) => replace(body, errorBox(err)));
}

function links(cid, name) {
  return h('div', { class: 'actions' },
    h('a', { class: 'button small', href: gatewayURL(cid, { name }), target: '_blank', rel: 'noopener' }, 'Open in a new tab'),
    h('a', { class: 'button small', href: gatewayURL(cid, { name, download: true }), download: name || cid }, 'Download'));
}

function file(body, cid, name, st) {
  const src = gatewayURL(cid, { name });
  const kind = kindOf(name);
  let view;
  switch (kind) {
    case 'image':
      view = h('img', { src, alt: name || 'Image ' + cid });
      break;
    case 'video':
      view = h('video', { src, controls: true, preload: 'metadata' });
      break;
    case 'audio':
      view = h('audio', { src, controls: true, preload: 'metadata' });
      break;
    case 'pdf':
      // A frame with a sandbox attribute gets no PDF viewer at all, so
      // this one has none; the PDF's origin (its CID's) holds nothing.
      // The link stays for browsers that will not show a PDF in a frame.
      view = [
        h('iframe', { src, title: 'Preview of ' + (name || cid), class: 'pdf-frame' }),
        h('p', { class: 'muted small' }, 'Nothing shown? ', h('a', { href: src, target: '_blank', rel: 'noopener' }, 'Open ' + (name || 'the PDF') + ' in its own tab'), '.'),
      ];
      break;
    case 'page':
      // A shared web page runs, scripts included, in its CID's own origin;
      // the sandbox only keeps it from navigating this page away.
      view = h('iframe', { src, sandbox: 'allow-scripts allow-same-origin allow-forms allow-popups',
        title: 'Preview of ' + (name || cid), class: 'text-frame page-frame' });
      break;
    case 'text':
    case 'unknown':
      // Fully sandboxed: whatever it turns out to be, nothing in it runs.
      view = h('iframe', { src, sandbox: '', title: 'Preview of ' + (name || cid), class: 'text-frame' });
      break;
    default:
      view = h('p', {}, 'No preview for this kind of file.');
  }
  replace(body, h('p', { class: 'muted' }, bytes(st.size)), links(cid, name), h('div', { class: 'view' }, view));
}

// A symbolic link holds a target, written on the computer it was added
// from, and no content: there is nothing to open.
function symlink(body, st) {
  replace(body,
    h('p', {}, 'A symbolic link to ', h('code', { class: 'link-target' }, st.target), '.'),
    h('p', { class: 'muted small' }, 'It has no content of its own: saved with ', h('code', {}, 'kith get'), ' it is written back as a link, which points where it pointed on the computer it was added from.'));
}

// entryName is a folder entry's name cell: a link to open it, or, for a
// symbolic link (nothing to open), its name and target.
function entryName(e) {
  if (e.type === 'symlink') {
    return h('td', { class: 'name', title: 'Symbolic link to ' + e.target },
      e.name, h('span', { class: 'muted link-target' }, ' → ' + e.target));
  }
  return h('td', { class: 'name' }, h('a', { href: '#/open/' + encodeURIComponent(e.cid) + '?name=' + encodeURIComponent(e.name) }, e.name + (e.type === 'dir' ? '/' : '')));
}

// folder lists a folder's entries, a page at a time (a folder may hold
// tens of thousands), with a filter by name.
function folder(body, cid, name) {
  api('/ls', { params: { cid, peers: true } }).then((entries) => {
    const list = longList({ id: 'folder', placeholder: 'Filter by name', text: (e) => e.name,
      draw: (shown) => h('table', { class: 'list', id: 'folder' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Size'), h('th', { scope: 'col' }, 'CID'))),
        h('tbody', {}, shown.map((e) => h('tr', {},
          entryName(e),
          h('td', { class: 'num' }, e.type === 'symlink' ? 'link' : bytes(e.size)),
          h('td', { class: 'id', 'data-label': 'CID' }, h('code', { title: e.cid }, shortId(e.cid)), ' ', copyButton(e.cid)))))),
      empty: () => null });
    replace(body,
      h('p', { class: 'muted' }, `Folder, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`),
      h('div', { class: 'actions' },
        h('a', { class: 'button small', href: gatewayURL(cid), target: '_blank', rel: 'noopener' }, 'Open in a new tab'),
        h('a', { class: 'button small', href: gatewayURL(cid, { name, download: true }), download: (name || cid) + '.tar' }, 'Download as .tar')),
      list.filter, list.list);
    list.set(entries);
  }).catch((err) => replace(body, errorBox(err)));
}

// Open: preview a file (image, text, PDF, audio, video) or list a folder.
// Content comes from the daemon's /ipfs/ gateway, which serves it sandboxed
// (Content-Security-Policy: sandbox): shared HTML or SVG never runs with
// this page's origin, so it cannot use the session.

import { api, gatewayURL } from '../api.js';
import { h, copyButton, errorBox, replace } from '../dom.js';
import { bytes, shortId } from '../format.js';

export const title = 'Open';

const kinds = {
  image: ['png', 'jpg', 'jpeg', 'gif', 'webp', 'avif', 'svg', 'bmp', 'ico'],
  video: ['mp4', 'm4v', 'webm', 'ogv', 'mov'],
  audio: ['mp3', 'm4a', 'ogg', 'oga', 'opus', 'wav', 'flac', 'aac'],
  pdf: ['pdf'],
  text: ['txt', 'md', 'markdown', 'json', 'csv', 'tsv', 'log', 'xml', 'yaml', 'yml', 'toml', 'ini', 'go', 'js', 'mjs',
    'ts', 'py', 'rs', 'c', 'h', 'cpp', 'java', 'sh', 'css', 'html', 'htm', 'sql', 'diff', 'patch'],
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
  api('/stat', { params: { cid } })
    .then((st) => (st.type === 'dir' ? folder(body, cid, name) : file(body, cid, name, st)))
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
      // this one has none. What keeps it safe: a name ending in .pdf makes
      // the gateway answer application/pdf with nosniff, so the bytes only
      // ever reach the browser's PDF viewer, which runs none of them as
      // page script, and anything else the frame loads carries the
      // gateway's Content-Security-Policy: sandbox. (Chromium gives the
      // document holding a PDF the gateway's origin whatever that policy
      // says, in a frame as in a tab of its own: see web/ui/pdf_test.go.)
      // The link stays for browsers that will not show a PDF in a frame.
      view = [
        h('iframe', { src, title: 'Preview of ' + (name || cid), class: 'pdf-frame' }),
        h('p', { class: 'muted small' }, 'Nothing shown? ', h('a', { href: src, target: '_blank', rel: 'noopener' }, 'Open ' + (name || 'the PDF') + ' in its own tab'), '.'),
      ];
      break;
    case 'text':
    case 'unknown':
      // The frame is sandboxed twice: by this attribute and by the
      // gateway's CSP, so even HTML shows inertly.
      view = h('iframe', { src, sandbox: '', title: 'Preview of ' + (name || cid), class: 'text-frame' });
      break;
    default:
      view = h('p', {}, 'No preview for this kind of file.');
  }
  replace(body, h('p', { class: 'muted' }, bytes(st.size)), links(cid, name), h('div', { class: 'view' }, view));
}

function folder(body, cid, name) {
  api('/ls', { params: { cid } }).then((entries) => {
    replace(body,
      h('p', { class: 'muted' }, `Folder, ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`),
      h('div', { class: 'actions' },
        h('a', { class: 'button small', href: gatewayURL(cid) + '/', target: '_blank', rel: 'noopener' }, 'Open in a new tab'),
        h('a', { class: 'button small', href: gatewayURL(cid, { name, download: true }), download: (name || cid) + '.tar' }, 'Download as .tar')),
      h('table', { class: 'list', id: 'folder' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Size'), h('th', { scope: 'col' }, 'CID'))),
        h('tbody', {}, entries.map((e) => h('tr', {},
          h('td', {}, h('a', { href: '#/open/' + encodeURIComponent(e.cid) + '?name=' + encodeURIComponent(e.name) }, e.name + (e.type === 'dir' ? '/' : ''))),
          h('td', { class: 'num' }, bytes(e.size)),
          h('td', {}, h('code', { title: e.cid }, shortId(e.cid))))))));
  }).catch((err) => replace(body, errorBox(err)));
}

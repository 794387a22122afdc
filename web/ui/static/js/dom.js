// Small DOM helpers. Everything shown comes from the network (file names,
// peer agents), so text is only ever set as text, never parsed as HTML.

/**
 * h builds an element: h('a', {href: '#/files', class: 'x'}, 'text', child).
 * Attributes starting with "on" are event listeners; null/false ones are
 * skipped; children may be strings, nodes, arrays, null or false.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** replace swaps el's children for the given ones. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * copyButton copies text to the clipboard and says so. field, when given,
 * is the element showing the text: where the clipboard cannot be written
 * (a browser that refuses, an insecure context), its text is selected for
 * the reader to copy by hand.
 */
export function copyButton(text, what = 'Copy', field = null) {
  const b = h('button', { type: 'button', class: 'small', title: text.length > 100 ? 'Copy to the clipboard' : 'Copy ' + text }, what);
  const key = /Mac|iPhone|iPad/.test(navigator.userAgent) ? '⌘C' : 'Ctrl+C';
  b.addEventListener('click', async () => {
    b.textContent = { copied: 'Copied', selected: 'Selected: press ' + key, failed: 'Copy failed' }[await copyText(text, field)];
    setTimeout(() => { b.textContent = what; }, 2500);
  });
  return b;
}

/** copyText writes text to the clipboard, else selects it in field. */
async function copyText(text, field) {
  if (navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return 'copied';
    } catch { /* refused: fall back to the selection */ }
  }
  if (!field) return 'failed';
  field.focus();
  field.select();
  try {
    if (document.execCommand('copy')) return 'copied';
  } catch { /* not supported */ }
  return 'selected';
}

/** errorBox shows a failure as one readable sentence. */
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : String(err));
}

/** section is a titled block of a page. */
export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}

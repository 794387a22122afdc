// Paths on this computer, typed into the page for the daemon to read
// itself (the Add page, a group's Share a folder): the daemon runs on the
// same computer, as the user whose home a leading ~ names.

import { api } from './api.js';
import { h } from './dom.js';

/**
 * pathField is a text field for the path of a file or folder on this
 * computer, example a name under the home folder ("Photos"): its
 * placeholder shows the daemon user's home. It returns {input, resolve()}:
 * resolve gives {path}, the path typed with a leading ~ read as that home,
 * or {error}, a sentence saying what to type instead.
 */
export function pathField(attrs, example) {
  let home = '';
  const input = h('input', { type: 'text', spellcheck: 'false', autocomplete: 'off', required: true,
    placeholder: `/home/you/${example} or ~/${example}`, ...attrs });
  api('/id').then((id) => {
    home = id.home || '';
    if (home) input.placeholder = `${home}/${example} or ~/${example}`;
  }).catch(() => {});
  const resolve = () => {
    const path = expandHome(input.value.trim(), home);
    if (!isAbsolute(path)) return { error: `Give the full path, such as ${home || '/home/you'}/${example}, or ~/${example}.` };
    return { path };
  };
  return { input, resolve };
}

/** expandHome reads a leading ~ as the daemon user's home folder. */
export function expandHome(p, home) {
  if (!home) return p;
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith('~\\')) return home + p.slice(1);
  return p;
}

/** isAbsolute: a Unix path, or a Windows one with its drive or share. */
export function isAbsolute(p) {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** baseName is the last name of a path. */
export function baseName(p) {
  return p.split(/[\\/]/).filter(Boolean).pop() || p;
}

/**
 * namePatterns reads a "Leave out" field: names, paths or patterns
 * (the CLI's --exclude), comma-separated, blanks dropped.
 */
export function namePatterns(text) {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

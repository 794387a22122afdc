// Long lists (the Files page, a folder of thousands of entries): drawn a
// page at a time, since a table of thousands takes the browser seconds to
// lay out, with Show more, and a filter once the list is long enough to
// look for something in it.

import { h, replace } from './dom.js';

/** pageRows is how many rows are drawn at first, and added by Show more. */
export const pageRows = 500;
/** filterFrom is the number of rows from which the list offers a filter. */
export const filterFrom = 20;

/**
 * longList draws rows into list through draw(shown), an element (a table)
 * for the rows shown; text(row) is what the filter searches; empty() is
 * what shows when there are no rows at all; onDraw(shown) runs after each
 * drawing. It returns {filter, list, set(rows), stop()}: place filter and
 * list in the page, call set with the rows (again on each reload: the
 * filter and the number shown stay), stop when the page goes.
 */
export function longList({ id, placeholder, text, draw, empty, onDraw = () => {} }) {
  let rows = [];
  let limit = pageRows;
  let typing = 0;
  const input = h('input', { type: 'search', id: id + '-filter', placeholder, spellcheck: 'false', autocomplete: 'off',
    'aria-label': placeholder, oninput: () => {
      // Drawn once typing pauses, not at every key.
      clearTimeout(typing);
      typing = setTimeout(() => { limit = pageRows; redraw(); }, 150);
    } });
  const filter = h('div', { class: 'list-filter', hidden: true }, input);
  const list = h('div', {});

  function redraw() {
    filter.hidden = rows.length < filterFrom && !input.value;
    const kept = matching(rows, input.value, text);
    const shown = kept.slice(0, limit);
    if (rows.length === 0) replace(list, empty());
    else if (kept.length === 0) replace(list, h('p', { class: 'muted', id: id + '-none' }, `Nothing here matches “${input.value.trim()}”.`));
    else replace(list, draw(shown), more(shown.length, kept.length));
    onDraw(shown);
  }

  // more says how many rows are shown of how many, with buttons to show
  // the next page or all of them.
  function more(shown, total) {
    if (shown >= total) return null;
    const showMore = (n) => () => { limit = n; redraw(); };
    return h('div', { class: 'actions list-more', id: id + '-more' },
      h('span', { class: 'muted' }, `Showing ${shown} of ${total}.`),
      h('button', { type: 'button', onclick: showMore(limit + pageRows) }, `Show ${Math.min(pageRows, total - shown)} more`),
      h('button', { type: 'button', onclick: showMore(Infinity) }, `Show all ${total}`));
  }

  return {
    filter,
    list,
    set(r) { rows = r; redraw(); },
    stop() { clearTimeout(typing); },
  };
}

/**
 * matching keeps the rows whose text holds every word of the filter,
 * whatever their case.
 */
export function matching(rows, typed, text) {
  const words = typed.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return rows;
  return rows.filter((r) => {
    const t = text(r).toLowerCase();
    return words.every((w) => t.includes(w));
  });
}

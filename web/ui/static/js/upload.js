// Adding through POST /api/v1/add: a path on this computer the daemon
// reads itself (addPath), or an upload in the multipart format of
// boxo/files (Kubo's): one part per file or folder, each named by its path
// relative to the upload, url-escaped in the Content-Disposition filename;
// folders are parts with Content-Type application/x-directory, placed
// before their contents, and each folder's contents are contiguous; a
// file's part carries its modification time (fileField). One request
// carries one top-level file or folder.

import { events, url } from './api.js';
import * as session from './session.js';

/**
 * An item is one top-level file or folder to add:
 * {name, size, files: [{path, file}], dirs: [path]}; paths start with name.
 */

/** itemsFromInput groups an <input type=file> selection into items. */
export function itemsFromInput(fileList) {
  const items = new Map();
  for (const file of fileList) {
    const rel = file.webkitRelativePath || file.name;
    const top = rel.split('/')[0];
    if (!items.has(top)) items.set(top, { name: top, size: 0, files: [], dirs: [] });
    const it = items.get(top);
    it.files.push({ path: rel, file });
    it.size += file.size;
    // A folder chosen with webkitdirectory lists files only; their parent
    // folders are implied by the paths.
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!it.dirs.includes(d)) it.dirs.push(d);
    }
  }
  return [...items.values()];
}

/** itemsFromDrop reads dropped files and whole folders (with empty ones). */
export async function itemsFromDrop(dataTransfer) {
  const entries = [...dataTransfer.items]
    .filter((i) => i.kind === 'file')
    .map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
  if (entries.some((e) => !e)) return itemsFromInput(dataTransfer.files);
  const items = [];
  for (const entry of entries) {
    const it = { name: entry.name, size: 0, files: [], dirs: [] };
    await walk(entry, entry.name, it);
    items.push(it);
  }
  return items;
}

async function walk(entry, path, it) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    it.files.push({ path, file });
    it.size += file.size;
    return;
  }
  it.dirs.push(path);
  const reader = entry.createReader();
  // readEntries returns a batch at a time; an empty batch is the end.
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, path + '/' + child.name, it);
  }
}

/**
 * wrapItems puts items in one new folder called name: one upload, one
 * CID and one ticket for all (the CLI's `kith add --wrap NAME`).
 */
export function wrapItems(items, name) {
  const out = { name, size: 0, files: [], dirs: [name] };
  for (const it of items) {
    out.size += it.size;
    for (const f of it.files) out.files.push({ path: name + '/' + f.path, file: f.file });
    for (const d of it.dirs) out.dirs.push(name + '/' + d);
  }
  return out;
}

/** folderName makes what a person typed a folder name ("" if nothing is left). */
export function folderName(typed) {
  const name = typed.replace(/[/\\\u0000-\u001f]/g, '_').trim();
  return name === '.' || name === '..' ? '' : name;
}

/** comparePaths orders paths folder by folder, so a folder's part comes
 * right before its contents and the contents stay together. */
function comparePaths(a, b) {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** body builds the multipart body for one item. */
export function body(item) {
  const parts = [
    ...item.dirs.map((path) => ({ path, dir: true })),
    ...item.files.map(({ path, file }) => ({ path, file })),
  ].sort((x, y) => comparePaths(x.path, y.path));
  const fd = new FormData();
  for (const p of parts) {
    // encodeURIComponent output is safe inside the quoted filename, and
    // the daemon url-unescapes it (spaces, quotes, non-ASCII names).
    const name = encodeURIComponent(p.path);
    if (p.dir) fd.append('file', new Blob([], { type: 'application/x-directory' }), name);
    else fd.append(fileField(p.file), new Blob([p.file], { type: 'application/octet-stream' }), name);
  }
  return fd;
}

/**
 * fileField is a file's part name with its modification time, as the
 * format carries it (file?mode=&mtime=&mtime-nsecs=): the daemon keeps it
 * with the pin, so that a group's share of what was uploaded gives the
 * files their times on the other devices (a photo keeps its date). A
 * browser tells no mode: 0644 is what a file is written with anyway.
 */
export function fileField(file) {
  const ms = file.lastModified;
  if (!Number.isFinite(ms) || ms <= 0) return 'file';
  const q = new URLSearchParams({ mode: '0644', mtime: String(Math.floor(ms / 1000)) });
  if (ms % 1000) q.set('mtime-nsecs', String((ms % 1000) * 1e6));
  return 'file?' + q.toString();
}

/**
 * upload adds one item. onProgress({sent, added, total, rate}) reports
 * bytes sent (XHR upload events), bytes imported and the rate of the
 * import in bytes per second (the daemon's NDJSON progress events; 0 until
 * the daemon has measured it); private keeps it out of the DHT. It
 * resolves with the add result {cid, name, size, ...} and rejects with an
 * Error whose message is the daemon's sentence.
 */
export function upload(item, onProgress, { private: priv = false } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const progress = { sent: 0, added: 0, total: item.size, rate: 0 };
    let seen = 0;
    let result = null;
    let failure = null;
    const readEvents = () => {
      const text = xhr.responseText;
      let nl;
      while ((nl = text.indexOf('\n', seen)) >= 0) {
        const line = text.slice(seen, nl);
        seen = nl + 1;
        if (!line.trim()) continue;
        let ev;
        try { ev = JSON.parse(line); } catch { continue; }
        if (ev.type === 'progress') {
          progress.added = ev.bytes || 0;
          progress.rate = ev.rate || 0;
          onProgress({ ...progress });
        } else if (ev.type === 'done') {
          result = ev.result;
        } else if (ev.type === 'error') {
          failure = ev.error;
        }
      }
    };
    xhr.open('POST', url('/add', { total: item.size, private: priv ? 'true' : undefined }));
    for (const [k, v] of Object.entries(session.headers())) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => {
      progress.sent = e.loaded;
      onProgress({ ...progress });
    });
    xhr.addEventListener('progress', () => { if (xhr.status === 200) readEvents(); });
    xhr.addEventListener('load', () => {
      if (xhr.status !== 200) {
        let msg = `The daemon answered ${xhr.status}.`;
        try { msg = JSON.parse(xhr.responseText).error || msg; } catch { /* not JSON */ }
        if (xhr.status === 401) session.signedOut('ended');
        reject(new Error(msg));
        return;
      }
      readEvents();
      if (result) resolve(result);
      else reject(new Error(failure || 'The daemon ended the upload without a result.'));
    });
    xhr.addEventListener('error', () => reject(new Error('The upload was cut off: is the daemon still running?')));
    xhr.addEventListener('abort', () => reject(new Error('Upload cancelled.')));
    xhr.send(body(item));
  });
}

/**
 * unreadableSentence says which files an add result says it left out, not
 * able to read them (the add's skipUnreadable), or '' if none; watched:
 * the first share of a folder followed, whose watch tries them again.
 */
export function unreadableSentence(res, watched = false) {
  const n = res.unreadable_count || 0;
  if (!n) return '';
  const named = (res.unreadable || []).map((f) => `${f.path} (${f.reason})`);
  if (n > named.length) named.push(`${n - named.length} more`);
  if (!watched) {
    return n === 1
      ? ` Left out a file or folder the daemon may not read: ${named[0]}.`
      : ` Left out ${n} files or folders the daemon may not read: ${named.join(', ')}.`;
  }
  return n === 1
    ? ` Left out a file the daemon may not read: ${named[0]}. The folder's watch tries it again every 10 minutes, and names it below until it is shared.`
    : ` Left out ${n} files the daemon may not read: ${named.join(', ')}. The folder's watch tries them again every 10 minutes, and names them below until they are shared.`;
}

/**
 * skippedSentence says which special files (sockets, named pipes,
 * devices) an add result says it left out of a folder, or '' if none.
 */
export function skippedSentence(res) {
  const n = res.skipped_count || 0;
  if (!n) return '';
  const named = (res.skipped || []).map((f) => `${f.path} (${f.kind})`);
  if (n > named.length) named.push(`${n - named.length} more`);
  return ` Left out ${n === 1 ? 'a special file' : `${n} special files`} (sockets, named pipes and devices hold no content): ${named.join(', ')}.`;
}

/**
 * addPath adds the file or folder at path, an absolute path on this
 * computer that the daemon reads itself (nothing goes through the page),
 * leaving out the names exclude matches (the CLI's --exclude). It pins it
 * as name; private keeps it out of the DHT (the CLI's --private); nocopy
 * keeps where its bytes are in the files, not a copy (the CLI's --nocopy);
 * skipUnreadable leaves out what the daemon may not read (the CLI's
 * --skip-unreadable).
 * onProgress({added, total, rate}) reports the bytes imported. It resolves
 * with the add result {cid, name, size, ...} and rejects with an Error
 * whose message is the daemon's sentence.
 */
export function addPath(path, { name, exclude = [], private: priv = false, nocopy = false, skipUnreadable = false } = {}, onProgress = () => {}) {
  return events('/add', { path, recursive: 'true', name, exclude, private: priv ? 'true' : undefined, nocopy: nocopy ? 'true' : undefined,
    skip_unreadable: skipUnreadable ? 'true' : undefined },
    (ev) => onProgress({ added: ev.bytes || 0, total: ev.total || 0, rate: ev.rate || 0 }), 'The add');
}

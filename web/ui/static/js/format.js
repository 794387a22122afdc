// Formatting of sizes, rates, durations and dates for people.

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** bytes formats a size: 1.5 MiB. */
export function bytes(n) {
  n = Number(n) || 0;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

/** plural counts: 1 pin, 2 pins. */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** rate formats bytes per second. */
export function rate(n) { return bytes(n) + '/s'; }

/**
 * pace says how fast long work goes: the rate, and the time left at that
 * rate for total - done bytes (none while the rate is not measured).
 */
export function pace(done, total, bytesPerSecond) {
  const left = bytesPerSecond > 0 && total > done ? (total - done) / bytesPerSecond : NaN;
  return [
    bytesPerSecond > 0 ? rate(bytesPerSecond) : null,
    isFinite(left) ? 'about ' + duration(left) + ' left' : null,
  ].filter(Boolean);
}

/** duration formats seconds: 45 s, 3 min 10 s, 2 h 5 min. */
export function duration(s) {
  if (!isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

// One formatter for every date: toLocaleString with options builds a new
// one per call, which costs a list of thousands of pins most of its time.
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** date formats an ISO time in the reader's locale. */
export function date(iso) {
  const d = new Date(iso);
  return isNaN(d) ? '' : dateFormat.format(d);
}

/** shortId keeps the start and end of a long CID or peer ID. */
export function shortId(s) {
  return s.length > 20 ? s.slice(0, 10) + '…' + s.slice(-6) : s;
}

/** percent of done over total, clamped, or null when total is unknown. */
export function percent(done, total) {
  if (!total) return null;
  return Math.max(0, Math.min(100, (100 * done) / total));
}

/** ago formats an ISO time relative to now: just now, 5 min ago, 3 h ago. */
export function ago(iso) {
  const t = Date.parse(iso);
  if (isNaN(t) || t <= 0 || new Date(t).getUTCFullYear() < 2000) return 'never';
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

// keptSentence says how many versions before the newest group keeps of a
// folder that syncs ("" for none).
export function keptSentence(group, keep) {
  if (!keep) return '';
  return ` ${group} keeps the ${keep === 1 ? 'version' : `${keep} versions`} before the newest too.`;
}

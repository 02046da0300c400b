// Browser script, part 1: helpers shared by the views (escaping, times, durations).
export const UTIL_JS = `
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&":"&amp;", "<":"&lt;", ">":"&gt;", '"':"&quot;", "'":"&#39;" })[c]);
const fmtDur = (ms) => {
  if (!(ms >= 0)) return "";
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m" + (s % 60 ? (s % 60) + "s" : "");
  return Math.floor(m / 60) + "h" + (m % 60) + "m";
};
const time = (iso) => iso ? new Date(iso).toLocaleTimeString() : "";
/** How long from start to end (or to now, while it runs); "" before it started. */
const span = (start, end, now) => start ? fmtDur((end ? Date.parse(end) : now) - Date.parse(start)) : "";
const runHref = (ns, name) => "/runs/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name);
const phaseBadge = (phase) => '<span class="phase ' + esc(phase) + '">' + esc(phase) + '</span>';
const exitBadge = (code) => code === undefined ? "" : '<span class="exit ' + (code === 0 ? "ok" : "bad") + '">exit ' + esc(code) + '</span>';
`;

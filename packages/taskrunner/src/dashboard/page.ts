// The dashboard page: plain HTML, CSS and a small script (no framework, no build step).
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mini Task Runner</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --fg:#e6e6e6; --dim:#8b949e; --ok:#3fb950; --bad:#f85149; --run:#58a6ff; --wait:#d29922; --skip:#484f58; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 22px; border-bottom:1px solid #262c33; }
  header h1 { font-size:18px; margin:0; }
  #conn { font-size:12px; color:var(--dim); }
  #conn.live::before { content:"● "; color:var(--ok); }
  #conn.down::before { content:"● "; color:var(--bad); }
  main { padding:18px 22px; display:grid; gap:18px; }
  section { background:var(--panel); border-radius:8px; padding:14px 16px; }
  h2 { font-size:14px; margin:0 0 10px; color:var(--dim); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
  .counts { display:flex; gap:22px; }
  .count b { font-size:22px; display:block; }
  table { width:100%; border-collapse:collapse; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid #222a31; vertical-align:middle; }
  th { color:var(--dim); font-weight:500; font-size:12px; }
  .phase { padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
  .Succeeded { background:#1b3a24; color:var(--ok); } .Failed { background:#3d1d1f; color:var(--bad); }
  .Running { background:#17304d; color:var(--run); } .Pending, .New { background:#3a2f12; color:var(--wait); }
  .steps { display:flex; gap:3px; }
  .step { width:26px; height:10px; border-radius:3px; background:var(--skip); }
  .step.Succeeded { background:var(--ok); } .step.Failed { background:var(--bad); }
  .step.Running { background:var(--run); animation:pulse 1s infinite alternate; } .step.Waiting { background:#30363d; }
  @keyframes pulse { from { opacity:.5 } to { opacity:1 } }
  .dim { color:var(--dim); } .reason { font-size:12px; color:var(--dim); }
  svg text { fill:var(--dim); font-size:10px; }
  .empty { color:var(--dim); padding:8px; }
</style>
</head>
<body>
<header><h1>Mini Task Runner</h1><span id="conn" class="down">connecting…</span></header>
<main>
  <section><h2>Runs</h2><div class="counts" id="counts"></div></section>
  <section><h2>Runs finished per minute (last 30 min)</h2><svg id="chart" width="100%" height="120" role="img" aria-label="runs per minute by outcome"></svg></section>
  <section><h2>TaskRuns</h2><table id="runs"><thead><tr><th>Name</th><th>Namespace</th><th>Task</th><th>Phase</th><th>Steps</th><th>Started</th><th>Duration</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Tasks</h2><table id="tasks"><thead><tr><th>Name</th><th>Namespace</th><th>Steps</th><th>Params</th><th>Description</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
const runs = new Map(), tasks = new Map();
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&":"&amp;", "<":"&lt;", ">":"&gt;", '"':"&quot;", "'":"&#39;" })[c]);
const fmtDur = (ms) => { if (!(ms >= 0)) return ""; const s = Math.floor(ms/1000); if (s < 60) return s + "s"; const m = Math.floor(s/60); if (m < 60) return m + "m" + (s%60 ? (s%60) + "s" : ""); return Math.floor(m/60) + "h" + (m%60) + "m"; };
const time = (iso) => iso ? new Date(iso).toLocaleTimeString() : "";
function render() {
  const list = [...runs.values()].sort((a, b) => (b.created || "").localeCompare(a.created || ""));
  const by = { Succeeded:0, Failed:0, Running:0, Pending:0 };
  for (const r of list) by[r.phase || "Pending"] = (by[r.phase || "Pending"] || 0) + 1;
  document.getElementById("counts").innerHTML = ["Running","Pending","Succeeded","Failed"].map((p) => '<div class="count"><b>' + by[p] + '</b><span class="phase ' + p + '">' + p + '</span></div>').join("");
  const now = Date.now();
  document.querySelector("#runs tbody").innerHTML = list.length ? list.map((r) => {
    const phase = r.phase || "New";
    const end = r.finished ? Date.parse(r.finished) : now;
    const dur = r.started ? fmtDur(end - Date.parse(r.started)) : "";
    const steps = r.steps.map((s) => '<span class="step ' + esc(s.state) + '" title="' + esc(s.name + ": " + s.state + (s.exitCode !== undefined ? " (exit " + s.exitCode + ")" : "")) + '"></span>').join("");
    return '<tr data-run="' + esc(r.name) + '" data-phase="' + esc(phase) + '"><td>' + esc(r.name) + '</td><td class="dim">' + esc(r.namespace) + '</td><td>' + esc(r.task) + '</td><td><span class="phase ' + esc(phase) + '">' + esc(phase) + '</span>' + (r.phase === "Failed" || (r.reason && r.reason !== r.phase) ? ' <span class="reason">' + esc(r.reason) + '</span>' : '') + '</td><td><div class="steps">' + steps + '</div></td><td class="dim">' + esc(time(r.started)) + '</td><td>' + esc(dur) + '</td></tr>';
  }).join("") : '<tr><td colspan="7" class="empty">No TaskRuns yet — try: kubectl task start hello --follow</td></tr>';
  const tl = [...tasks.values()].sort((a, b) => a.name.localeCompare(b.name));
  document.querySelector("#tasks tbody").innerHTML = tl.length ? tl.map((t) => '<tr><td>' + esc(t.name) + '</td><td class="dim">' + esc(t.namespace) + '</td><td>' + esc(t.steps.map((s) => s.name).join(" → ")) + '</td><td class="dim">' + esc(t.params.join(", ")) + '</td><td class="dim">' + esc(t.description) + '</td></tr>').join("") : '<tr><td colspan="5" class="empty">No Tasks</td></tr>';
  drawChart(list, now);
}
function drawChart(list, now) {
  const svg = document.getElementById("chart"); const W = svg.clientWidth || 600, H = 120, N = 30, bw = (W - 30) / N;
  const ok = new Array(N).fill(0), bad = new Array(N).fill(0);
  for (const r of list) { if (!r.finished) continue; const i = N - 1 - Math.floor((now - Date.parse(r.finished)) / 60000); if (i < 0 || i >= N) continue; (r.phase === "Succeeded" ? ok : bad)[i]++; }
  const max = Math.max(1, ...ok.map((v, i) => v + bad[i]));
  let out = "";
  for (let i = 0; i < N; i++) { const x = 30 + i * bw; const hOk = (ok[i] / max) * (H - 20), hBad = (bad[i] / max) * (H - 20);
    if (ok[i]) out += '<rect x="' + x + '" y="' + (H - 14 - hOk) + '" width="' + (bw - 2) + '" height="' + hOk + '" fill="#3fb950"><title>' + ok[i] + ' succeeded</title></rect>';
    if (bad[i]) out += '<rect x="' + x + '" y="' + (H - 14 - hOk - hBad) + '" width="' + (bw - 2) + '" height="' + hBad + '" fill="#f85149"><title>' + bad[i] + ' failed</title></rect>'; }
  out += '<text x="0" y="10">' + max + '</text><text x="0" y="' + (H - 14) + '">0</text><text x="30" y="' + (H - 2) + '">-30m</text><text x="' + (W - 30) + '" y="' + (H - 2) + '">now</text>';
  svg.innerHTML = out;
}
function connect() {
  const conn = document.getElementById("conn");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => { conn.textContent = "live"; conn.className = "live"; };
  ws.onclose = () => { conn.textContent = "disconnected — retrying"; conn.className = "down"; setTimeout(connect, 1000); };
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "snapshot") { runs.clear(); tasks.clear(); }
    for (const r of m.runs) runs.set(r.uid, r);
    for (const t of m.tasks) tasks.set(t.uid, t);
    for (const u of m.deletedRuns || []) runs.delete(u);
    for (const u of m.deletedTasks || []) tasks.delete(u);
    render();
  };
}
connect();
setInterval(render, 1000);
</script>
</body>
</html>
`;

// Browser script, part 2: the list view (`/`) — counts, the runs-per-minute chart, the runs and tasks tables.
// A run's row links to its page.
export const LIST_JS = `
const runs = new Map(), tasks = new Map();

function renderList() {
  const list = [...runs.values()].sort((a, b) => (b.created || "").localeCompare(a.created || ""));
  const by = { Succeeded:0, Failed:0, Running:0, Pending:0 };
  for (const r of list) by[r.phase || "Pending"] = (by[r.phase || "Pending"] || 0) + 1;
  document.getElementById("counts").innerHTML = ["Running", "Pending", "Succeeded", "Failed"]
    .map((p) => '<div class="count"><b>' + by[p] + '</b>' + phaseBadge(p) + '</div>').join("");
  const now = Date.now();
  document.querySelector("#runs tbody").innerHTML = list.length ? list.map((r) => {
    const phase = r.phase || "New";
    const steps = r.steps.map((s) => '<span class="step ' + esc(s.state) + '" title="' + esc(s.name + ": " + s.state + (s.exitCode !== undefined ? " (exit " + s.exitCode + ")" : "")) + '"></span>').join("");
    const href = runHref(r.namespace, r.name);
    const reason = r.phase === "Failed" || (r.reason && r.reason !== r.phase) ? ' <span class="reason">' + esc(r.reason) + '</span>' : "";
    return '<tr data-run="' + esc(r.name) + '" data-phase="' + esc(phase) + '" data-href="' + esc(href) + '">' +
      '<td><a href="' + esc(href) + '" data-nav>' + esc(r.name) + '</a></td><td class="dim">' + esc(r.namespace) + '</td><td>' + esc(r.task) + '</td>' +
      '<td>' + phaseBadge(phase) + reason + '</td><td><div class="steps">' + steps + '</div></td>' +
      '<td class="dim">' + esc(time(r.started)) + '</td><td>' + esc(span(r.started, r.finished, now)) + '</td></tr>';
  }).join("") : '<tr><td colspan="7" class="empty">No TaskRuns yet — try: kubectl task start hello --follow</td></tr>';
  const tl = [...tasks.values()].sort((a, b) => a.name.localeCompare(b.name));
  document.querySelector("#tasks tbody").innerHTML = tl.length ? tl.map((t) =>
    '<tr><td>' + esc(t.name) + '</td><td class="dim">' + esc(t.namespace) + '</td><td>' + esc(t.steps.map((s) => s.name).join(" → ")) +
    '</td><td class="dim">' + esc(t.params.join(", ")) + '</td><td class="dim">' + esc(t.description) + '</td></tr>').join("")
    : '<tr><td colspan="5" class="empty">No Tasks</td></tr>';
  drawChart(list, now);
}

function drawChart(list, now) {
  const svg = document.getElementById("chart");
  const W = svg.clientWidth || 600, H = 120, N = 30, bw = (W - 30) / N;
  const ok = new Array(N).fill(0), bad = new Array(N).fill(0);
  for (const r of list) {
    if (!r.finished) continue;
    const i = N - 1 - Math.floor((now - Date.parse(r.finished)) / 60000);
    if (i < 0 || i >= N) continue;
    (r.phase === "Succeeded" ? ok : bad)[i]++;
  }
  const max = Math.max(1, ...ok.map((v, i) => v + bad[i]));
  let out = "";
  for (let i = 0; i < N; i++) {
    const x = 30 + i * bw;
    const hOk = (ok[i] / max) * (H - 20), hBad = (bad[i] / max) * (H - 20);
    if (ok[i]) out += '<rect x="' + x + '" y="' + (H - 14 - hOk) + '" width="' + (bw - 2) + '" height="' + hOk + '" fill="#3fb950"><title>' + ok[i] + ' succeeded</title></rect>';
    if (bad[i]) out += '<rect x="' + x + '" y="' + (H - 14 - hOk - hBad) + '" width="' + (bw - 2) + '" height="' + hBad + '" fill="#f85149"><title>' + bad[i] + ' failed</title></rect>';
  }
  out += '<text x="0" y="10">' + max + '</text><text x="0" y="' + (H - 14) + '">0</text><text x="30" y="' + (H - 2) + '">-30m</text><text x="' + (W - 30) + '" y="' + (H - 2) + '">now</text>';
  svg.innerHTML = out;
}

/** A click anywhere on a run's row opens its page. */
document.querySelector("#runs tbody").addEventListener("click", (e) => {
  const row = e.target.closest("tr[data-href]");
  if (row && !e.target.closest("a") && !e.metaKey && !e.ctrlKey && !e.shiftKey) navigate(row.dataset.href);
});
`;

// Browser script, part 3: a run's own page (`/runs/<ns>/<name>`) — its header, a step timeline with durations
// and exit codes, each step with its live log, the sidecars, results, earlier attempts and events. The server
// sends the run (`run`), its events (`events`) and log text (`log`, `logEnd`) for the logs this page asks for
// (`logs`): the current attempt's steps at once, a sidecar's or an earlier attempt's when it is opened.
// Log blocks are kept across updates (keyed by pod and container), so text is only ever appended.
export const RUN_JS = String.raw`
const runPage = {
  /** { namespace, name } of the run shown, or null on the list. */
  watching: null,
  detail: null,
  events: [],
  eventsAvailable: true,
  /** "pod/container" → { text, end } */
  logs: new Map(),
  /** "pod/container" → the block showing it */
  blocks: new Map(),
  /** logs asked for on this connection */
  requested: new Set(),
};

function resetRunPage() {
  runPage.detail = null;
  runPage.events = [];
  runPage.logs.clear();
  runPage.requested.clear();
  for (const b of runPage.blocks.values()) b.root.remove();
  runPage.blocks.clear();
  for (const id of ["run-head", "timeline", "steps", "sidecars", "attempts"]) document.getElementById(id).innerHTML = "";
  document.querySelector("#results tbody").innerHTML = "";
  document.querySelector("#events tbody").innerHTML = "";
}

/** The server forgot what this page asked for (a new connection): ask again. */
function forgetRequests() {
  runPage.requested.clear();
  runPage.logs.clear();
  for (const b of runPage.blocks.values()) { b.pre.textContent = ""; b.shownEnd = undefined; }
}

function requestLog(pod, container) {
  const key = pod + "/" + container;
  if (runPage.requested.has(key) || !runPage.detail || !runPage.detail.pods.includes(pod)) return;
  if (!send({ type: "logs", pod, container })) return;
  runPage.requested.add(key);
}

function onLog(m) {
  const key = m.pod + "/" + m.container;
  let entry = runPage.logs.get(key);
  if (!entry) runPage.logs.set(key, (entry = { text: "", end: undefined }));
  entry.text += m.text;
  const b = runPage.blocks.get(key);
  if (!b) return;
  const pre = b.pre;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(document.createTextNode(m.text));
  if (atBottom) pre.scrollTop = pre.scrollHeight;
  updateLogEnd(b);
}

function onLogEnd(m) {
  const key = m.pod + "/" + m.container;
  let entry = runPage.logs.get(key);
  if (!entry) runPage.logs.set(key, (entry = { text: "", end: undefined }));
  entry.end = m.end;
  const b = runPage.blocks.get(key);
  if (b) updateLogEnd(b);
}

/** The line under a log: why it ended, or what it waits for. */
function updateLogEnd(b) {
  const entry = runPage.logs.get(b.key);
  const end = entry && entry.end;
  let text = "", cls = "logend";
  if (!runPage.detail || !runPage.detail.pods.includes(b.pod)) text = "no log: pod " + b.pod + " is gone";
  else if (!end) {
    if (runPage.requested.has(b.key) && !(entry && entry.text)) text = b.state === "Waiting" ? "waiting for the container to start…" : "waiting for output…";
  } else if (end.reason === "truncated") text = "log cut at " + Math.round(end.limitBytes / 1024) + " KiB — kubectl task logs shows all of it";
  else if (end.reason === "none") text = "no log: " + end.message;
  else if (end.reason === "error") { text = "log unavailable: " + end.message; cls += " error"; }
  else if (!(entry && entry.text)) text = "(no output)";
  if (b.foot.textContent !== text) b.foot.textContent = text;
  b.foot.className = cls;
}

/**
 * The block of one container (summary line, log, end line), made once and kept. lazy: its log is asked for
 * when it is opened; otherwise at once.
 */
function block(parent, index, pod, container, open, lazy) {
  const key = pod + "/" + container;
  let b = runPage.blocks.get(key);
  if (!b) {
    const root = document.createElement("details");
    root.className = "block";
    root.open = open;
    const summary = document.createElement("summary");
    const pre = document.createElement("pre");
    pre.className = "log";
    const foot = document.createElement("div");
    foot.className = "logend";
    root.append(summary, pre, foot);
    const entry = runPage.logs.get(key);
    if (entry) pre.textContent = entry.text;
    b = { key, pod, container, root, summary, pre, foot, lazy, state: "" };
    root.dataset.pod = pod;
    root.dataset.container = container;
    root.addEventListener("toggle", () => { if (root.open) requestLog(pod, container); });
    runPage.blocks.set(key, b);
  }
  if (parent.children[index] !== b.root) parent.insertBefore(b.root, parent.children[index] || null);
  if (!b.lazy || b.root.open) requestLog(pod, container);
  return b;
}

/** Removes the blocks under parent that are not in keep. */
function prune(parent, keep) {
  for (const el of [...parent.children]) {
    const key = el.dataset.pod + "/" + el.dataset.container;
    if (el.matches("details.block") && !keep.has(key)) { el.remove(); runPage.blocks.delete(key); }
  }
}

function stepSummary(s, now) {
  return '<span class="phase ' + esc(s.state) + '">' + esc(s.state) + '</span><b class="name">' + esc(s.name) + '</b>' +
    exitBadge(s.exitCode) + '<span class="dur">' + esc(span(s.startedAt, s.finishedAt, now)) + '</span>' +
    (s.reason && s.reason !== "Completed" ? '<span class="reason">' + esc(s.reason + (s.message ? ": " + s.message : "")) + '</span>' : "");
}

function renderSteps(parent, pod, steps, now, lazy) {
  const keep = new Set();
  steps.forEach((s, i) => {
    const b = block(parent, i, pod, s.container, !lazy, lazy);
    keep.add(b.key);
    b.state = s.state;
    b.root.dataset.step = s.name;
    b.root.dataset.state = s.state;
    const html = stepSummary(s, now);
    if (b.summaryHtml !== html) { b.summary.innerHTML = html; b.summaryHtml = html; }
    updateLogEnd(b);
  });
  prune(parent, keep);
}

function renderTimeline(d, now) {
  const el = document.getElementById("timeline");
  const starts = d.steps.map((s) => Date.parse(s.startedAt)).filter((t) => t >= 0);
  if (!starts.length) { el.innerHTML = ""; return; }
  const t0 = Math.min(...starts);
  const ends = d.steps.map((s) => s.finishedAt ? Date.parse(s.finishedAt) : s.startedAt ? now : NaN).filter((t) => t >= 0);
  const t1 = Math.max(t0 + 1000, d.finished ? Date.parse(d.finished) : now, ...ends);
  el.innerHTML = d.steps.map((s) => {
    const info = [span(s.startedAt, s.finishedAt, now), s.exitCode !== undefined ? "exit " + s.exitCode : s.state].filter(Boolean).join(" · ");
    let bar = "";
    if (s.startedAt) {
      const a = Date.parse(s.startedAt), b = s.finishedAt ? Date.parse(s.finishedAt) : now;
      bar = '<div class="tl-bar ' + esc(s.state) + '" data-left="' + (((a - t0) / (t1 - t0)) * 100).toFixed(2) + '" data-width="' + (((b - a) / (t1 - t0)) * 100).toFixed(2) + '"></div>';
    }
    return '<div class="tl-row" data-step="' + esc(s.name) + '"><span class="tl-name">' + esc(s.name) + '</span><div class="tl-track">' + bar + '</div><span class="tl-info">' + esc(info) + '</span></div>';
  }).join("");
  // Positions through the CSS object model: the page's policy allows no inline style attributes.
  for (const bar of el.querySelectorAll(".tl-bar")) { bar.style.left = bar.dataset.left + "%"; bar.style.width = bar.dataset.width + "%"; }
}

function renderHead(d, now) {
  const head = document.getElementById("run-head");
  const w = runPage.watching;
  if (!d) {
    head.dataset.phase = "";
    head.innerHTML = '<div class="title"><h2>' + esc(w ? w.name : "") + '</h2></div><p class="message">No TaskRun ' + esc(w ? w.namespace + "/" + w.name : "") + ' (yet): it may not have been created, or it was deleted.</p>';
    return;
  }
  const phase = d.phase || "New";
  head.dataset.phase = phase;
  const facts = [
    ["Task", esc(d.task)],
    ["Namespace", esc(d.namespace)],
    ["Pod", esc(d.podName || "—")],
    ["Created", esc(time(d.created))],
    ["Started", esc(time(d.started) || "—")],
    ["Duration", esc(span(d.started, d.finished, now) || "—")],
  ];
  if (d.retries > 0 || d.attempt > 1) facts.push(["Attempt", esc(d.attempt + " of " + (d.retries + 1))]);
  if (d.timeout) facts.push(["Timeout", esc(d.timeout)]);
  if (d.cancelled) facts.push(["Cancelled", "yes"]);
  const html = '<div class="title"><h2>' + esc(d.name) + '</h2>' + phaseBadge(phase) +
    (d.reason && d.reason !== d.phase ? '<span class="reason">' + esc(d.reason) + '</span>' : "") + '</div>' +
    (d.message ? '<p class="message">' + esc(d.message) + '</p>' : "") +
    '<dl>' + facts.map((f) => '<div><dt>' + f[0] + '</dt><dd data-fact="' + f[0] + '">' + f[1] + '</dd></div>').join("") + '</dl>';
  if (head.innerHTML !== html) head.innerHTML = html;
}

function renderSidecars(d, now) {
  const section = document.getElementById("sidecars-section");
  const parent = document.getElementById("sidecars");
  section.hidden = d.sidecars.length === 0;
  const keep = new Set();
  d.sidecars.forEach((s, i) => {
    const b = block(parent, i, d.podName, s.container, false, true);
    keep.add(b.key);
    b.state = s.state;
    b.root.dataset.sidecar = s.name;
    b.root.dataset.state = s.state;
    const html = '<span class="phase ' + esc(s.state) + '">' + esc(s.state) + '</span><b class="name">' + esc(s.name) + '</b>' +
      '<span class="dim">' + esc(s.image) + '</span>' + exitBadge(s.exitCode) +
      '<span class="dur">' + esc(span(s.startedAt, s.finishedAt, now)) + '</span>' + (s.reason ? '<span class="reason">' + esc(s.reason) + '</span>' : "");
    if (b.summaryHtml !== html) { b.summary.innerHTML = html; b.summaryHtml = html; }
    updateLogEnd(b);
  });
  prune(parent, keep);
}

function renderResults(d) {
  document.getElementById("results-section").hidden = d.results.length === 0;
  const html = d.results.map((r) => '<tr data-result="' + esc(r.name) + '"><td>' + esc(r.name) + '</td><td><pre>' + esc(r.value) + '</pre></td></tr>').join("");
  const tbody = document.querySelector("#results tbody");
  if (tbody.innerHTML !== html) tbody.innerHTML = html;
}

function renderAttempts(d, now) {
  const section = document.getElementById("attempts-section");
  const parent = document.getElementById("attempts");
  section.hidden = d.attempts.length === 0;
  const want = new Set(d.attempts.map((a) => String(a.number)));
  for (const el of [...parent.children]) if (!want.has(el.dataset.attempt)) el.remove();
  d.attempts.forEach((a, i) => {
    let el = parent.querySelector('details.attempt[data-attempt="' + a.number + '"]');
    if (!el) {
      el = document.createElement("details");
      el.className = "attempt";
      el.dataset.attempt = String(a.number);
      el.innerHTML = "<summary></summary><div class=\"attempt-steps\"></div>";
      // Opening an attempt asks for its steps' logs (its pod, if it still exists).
      el.addEventListener("toggle", () => { if (el.open) renderRun(); });
    }
    if (parent.children[i] !== el) parent.insertBefore(el, parent.children[i] || null);
    const gone = d.pods.includes(a.podName) ? "" : ' <span class="dim">(pod gone)</span>';
    const html = 'Attempt ' + a.number + ' ' + phaseBadge(a.phase) + (a.reason ? ' <span class="reason">' + esc(a.reason) + '</span>' : "") +
      ' <span class="dim">pod ' + esc(a.podName) + '</span>' + gone + ' <span class="dur">' + esc(time(a.started)) + (a.started ? " · " + esc(span(a.started, a.finished, now)) : "") + '</span>' +
      (a.message ? '<div class="reason">' + esc(a.message) + '</div>' : "");
    const summary = el.querySelector("summary");
    if (summary.innerHTML !== html) summary.innerHTML = html;
    // An attempt's steps (and their blocks, which ask for their logs) are made when it is first opened.
    if (el.open) renderSteps(el.querySelector(".attempt-steps"), a.podName, a.steps, now, false);
  });
}

function renderEvents() {
  const tbody = document.querySelector("#events tbody");
  const list = runPage.events;
  tbody.innerHTML = list.length ? list.map((e) =>
    '<tr class="' + esc(e.type) + '" data-reason="' + esc(e.reason) + '"><td class="dim">' + esc(time(e.time)) + '</td><td class="type">' + esc(e.type) +
    '</td><td>' + esc(e.reason) + '</td><td class="dim">' + esc(e.object) + '</td><td>' + esc(e.message) + (e.count > 1 ? ' <span class="dim">×' + esc(e.count) + '</span>' : "") +
    '</td><td class="dim">' + esc(e.source) + '</td></tr>').join("")
    : '<tr><td colspan="6" class="empty">' + (runPage.eventsAvailable ? "No events yet" : "Events are not available in this dashboard") + '</td></tr>';
}

function renderRun() {
  const d = runPage.detail;
  const now = Date.now();
  renderHead(d, now);
  if (!d) {
    for (const id of ["sidecars-section", "results-section", "attempts-section"]) document.getElementById(id).hidden = true;
    return;
  }
  renderTimeline(d, now);
  renderSteps(document.getElementById("steps"), d.podName, d.podName ? d.steps : [], now, false);
  renderSidecars(d, now);
  renderResults(d);
  renderAttempts(d, now);
}
`;

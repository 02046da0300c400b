// Browser script, part 4: the WebSocket (reconnecting), routing between the list and a run's page without
// reloading (history.pushState; links marked data-nav), and the messages from the server.
export const APP_JS = String.raw`
let socket = null;

/** Sends a message if connected; false otherwise (it is sent again on reconnect where it matters). */
function send(m) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(m));
  return true;
}

/** The run an address names: /runs/<ns>/<name>. */
function routeOf(path) {
  const m = /^\/runs\/([^/]+)\/([^/]+)\/?$/.exec(path);
  return m ? { namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]) } : null;
}

function route() {
  const r = routeOf(location.pathname);
  document.getElementById("list-view").hidden = !!r;
  document.getElementById("run-view").hidden = !r;
  const w = runPage.watching;
  if (!r) {
    if (w) send({ type: "unwatch" });
    runPage.watching = null;
    resetRunPage();
    document.title = "Mini Task Runner";
    renderList();
    return;
  }
  if (!w || w.namespace !== r.namespace || w.name !== r.name) {
    resetRunPage();
    runPage.watching = r;
    send({ type: "watch", namespace: r.namespace, name: r.name });
  }
  document.title = r.name + " · Mini Task Runner";
  renderRun();
  renderEvents();
}

function navigate(href) {
  if (href === location.pathname) return;
  history.pushState(null, "", href);
  window.scrollTo(0, 0);
  route();
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav]");
  if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);

function onMessage(m) {
  const w = runPage.watching;
  const mine = (x) => w && x.namespace === w.namespace && x.name === w.name;
  switch (m.type) {
    case "snapshot":
      runs.clear();
      tasks.clear();
    // falls through
    case "delta":
      for (const r of m.runs) runs.set(r.uid, r);
      for (const t of m.tasks) tasks.set(t.uid, t);
      for (const u of m.deletedRuns || []) runs.delete(u);
      for (const u of m.deletedTasks || []) tasks.delete(u);
      if (!w) renderList();
      return;
    case "run":
      if (!mine(m)) return;
      runPage.detail = m.run;
      renderRun();
      return;
    case "events":
      if (!mine(m)) return;
      runPage.events = m.events;
      runPage.eventsAvailable = m.available;
      renderEvents();
      return;
    case "log":
      if (w && m.namespace === w.namespace) onLog(m);
      return;
    case "logEnd":
      if (w && m.namespace === w.namespace) onLogEnd(m);
      return;
  }
}

function connect() {
  const conn = document.getElementById("conn");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  socket = ws;
  ws.onopen = () => {
    conn.textContent = "live";
    conn.className = "live";
    const w = runPage.watching;
    if (w) {
      // A new connection is a new session on the server: show the run again, ask for its logs again.
      forgetRequests();
      send({ type: "watch", namespace: w.namespace, name: w.name });
    }
  };
  ws.onclose = () => {
    conn.textContent = "disconnected — retrying";
    conn.className = "down";
    setTimeout(connect, 1000);
  };
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
}

route();
connect();
// Durations of running things tick.
setInterval(() => { if (runPage.watching) renderRun(); else renderList(); }, 1000);
`;

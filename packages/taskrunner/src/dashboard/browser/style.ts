// The dashboard's stylesheet (`/app.css`).
export const DASHBOARD_CSS = `
:root { --bg:#0f1419; --panel:#171d24; --fg:#e6e6e6; --dim:#8b949e; --ok:#3fb950; --bad:#f85149; --run:#58a6ff; --wait:#d29922; --skip:#484f58; --line:#222a31; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
a { color:var(--run); text-decoration:none; } a:hover { text-decoration:underline; }
header { display:flex; align-items:baseline; gap:16px; padding:14px 22px; border-bottom:1px solid #262c33; }
header h1 { font-size:18px; margin:0; } header a.home { color:var(--fg); }
#conn { font-size:12px; color:var(--dim); }
#conn.live::before { content:"● "; color:var(--ok); }
#conn.down::before { content:"● "; color:var(--bad); }
main { padding:18px 22px; display:grid; gap:18px; }
section { background:var(--panel); border-radius:8px; padding:14px 16px; min-width:0; }
h2 { font-size:14px; margin:0 0 10px; color:var(--dim); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
.counts { display:flex; gap:22px; }
.count b { font-size:22px; display:block; }
table { width:100%; border-collapse:collapse; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:middle; }
th { color:var(--dim); font-weight:500; font-size:12px; }
#runs tbody tr[data-href] { cursor:pointer; } #runs tbody tr[data-href]:hover { background:#1d252e; }
.phase { padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; white-space:nowrap; }
.Succeeded { background:#1b3a24; color:var(--ok); } .Failed { background:#3d1d1f; color:var(--bad); }
.Running { background:#17304d; color:var(--run); } .Pending, .New, .Waiting { background:#3a2f12; color:var(--wait); }
.Skipped, .Terminated { background:#262c33; color:var(--dim); }
.steps { display:flex; gap:3px; }
.step { width:26px; height:10px; border-radius:3px; background:var(--skip); }
.step.Succeeded { background:var(--ok); } .step.Failed { background:var(--bad); }
.step.Running { background:var(--run); animation:pulse 1s infinite alternate; } .step.Waiting { background:#30363d; }
@keyframes pulse { from { opacity:.5 } to { opacity:1 } }
.dim { color:var(--dim); } .reason { font-size:12px; color:var(--dim); }
svg text { fill:var(--dim); font-size:10px; }
.empty { color:var(--dim); padding:8px; }

/* A run's page */
#run-head .title { display:flex; align-items:baseline; gap:12px; flex-wrap:wrap; }
#run-head h2 { font-size:18px; color:var(--fg); text-transform:none; letter-spacing:0; margin:0; }
#run-head .message { margin:8px 0 0; color:var(--dim); }
#run-head dl { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:8px 18px; margin:12px 0 0; }
#run-head dt { font-size:12px; color:var(--dim); } #run-head dd { margin:0; overflow-wrap:anywhere; }
#timeline { display:grid; gap:4px; margin-bottom:12px; }
.tl-row { display:grid; grid-template-columns:160px 1fr 150px; gap:10px; align-items:center; font-size:12px; }
.tl-name { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.tl-track { position:relative; height:12px; background:#1d232b; border-radius:3px; }
.tl-bar { position:absolute; top:0; bottom:0; border-radius:3px; min-width:3px; background:var(--skip); }
.tl-bar.Succeeded { background:var(--ok); } .tl-bar.Failed { background:var(--bad); }
.tl-bar.Running { background:var(--run); animation:pulse 1s infinite alternate; }
.tl-info { color:var(--dim); white-space:nowrap; }
details.block { border:1px solid var(--line); border-radius:6px; margin:8px 0; background:#131920; }
details.block > summary { cursor:pointer; padding:7px 10px; display:flex; gap:10px; align-items:baseline; flex-wrap:wrap; list-style:none; }
details.block > summary::-webkit-details-marker { display:none; }
details.block > summary::before { content:"▸"; color:var(--dim); } details.block[open] > summary::before { content:"▾"; }
.exit { font-family:ui-monospace, SFMono-Regular, Menlo, monospace; font-size:12px; }
.exit.ok { color:var(--ok); } .exit.bad { color:var(--bad); }
.dur { color:var(--dim); font-size:12px; }
pre.log { margin:0; padding:8px 12px; max-height:360px; overflow:auto; background:#0b0f14; border-top:1px solid var(--line);
  font:12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; white-space:pre-wrap; overflow-wrap:anywhere; }
pre.log:empty { display:none; }
.logend { padding:4px 12px 6px; font-size:12px; color:var(--dim); } .logend:empty { display:none; }
.logend.error { color:var(--bad); }
#results pre { margin:0; font:12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; white-space:pre-wrap; overflow-wrap:anywhere; }
#events td { font-size:13px; } #events td:first-child { white-space:nowrap; } #events tr.Warning td.type { color:var(--bad); }
details.attempt { margin:8px 0; } details.attempt > summary { cursor:pointer; padding:4px 0; }
`;

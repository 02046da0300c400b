// The dashboard page: plain HTML, one stylesheet and one script (no framework, no build step), served as
// `/`, `/runs/<ns>/<name>` (the same page: the script shows the view the address names), `/app.css` and
// `/app.js`. The script is written as strings in browser/, one file per view; the page allows no inline script
// or style (Content-Security-Policy `script-src 'self'; style-src 'self'`).
import { APP_JS } from "./browser/app.ts";
import { LIST_JS } from "./browser/list.ts";
import { RUN_JS } from "./browser/run.ts";
import { DASHBOARD_CSS } from "./browser/style.ts";
import { UTIL_JS } from "./browser/util.ts";

export { DASHBOARD_CSS };

/** The browser script: the parts share one strict-mode scope. */
export const DASHBOARD_JS = `"use strict";
(() => {
${UTIL_JS}
${LIST_JS}
${RUN_JS}
${APP_JS}
})();
`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mini Task Runner</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header><a href="/" class="home" data-nav><h1>Mini Task Runner</h1></a><span id="conn" class="down">connecting…</span></header>
<main id="list-view">
  <section><h2>Runs</h2><div class="counts" id="counts"></div></section>
  <section><h2>Runs finished per minute (last 30 min)</h2><svg id="chart" width="100%" height="120" role="img" aria-label="runs per minute by outcome"></svg></section>
  <section><h2>TaskRuns</h2><table id="runs"><thead><tr><th>Name</th><th>Namespace</th><th>Task</th><th>Phase</th><th>Steps</th><th>Started</th><th>Duration</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Tasks</h2><table id="tasks"><thead><tr><th>Name</th><th>Namespace</th><th>Steps</th><th>Params</th><th>Description</th></tr></thead><tbody></tbody></table></section>
</main>
<main id="run-view" hidden>
  <nav><a href="/" data-nav>← All runs</a></nav>
  <section id="run-head"></section>
  <section><h2>Steps</h2><div id="timeline"></div><div id="steps"></div></section>
  <section id="sidecars-section" hidden><h2>Sidecars</h2><div id="sidecars"></div></section>
  <section id="results-section" hidden><h2>Results</h2><table id="results"><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody></tbody></table></section>
  <section id="attempts-section" hidden><h2>Earlier attempts</h2><div id="attempts"></div></section>
  <section><h2>Events</h2><table id="events"><thead><tr><th>Time</th><th>Type</th><th>Reason</th><th>Object</th><th>Message</th><th>From</th></tr></thead><tbody></tbody></table></section>
</main>
</body>
</html>
`;

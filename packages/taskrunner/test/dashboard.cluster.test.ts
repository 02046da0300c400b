// The live dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core)
// opens the page of a real minitask-controller, then a TaskRun is created; the run must appear and reach
// Succeeded over the WebSocket without a reload, and no step script or env value may reach the browser.
// A screenshot is left in artifacts/dashboard.png (git-ignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "@minitask/client";
import { type ControllerProcess, httpGet, startControllerProcess } from "@minitask/taskrunner/testing";
import { freePort } from "@minitask/testenv";
import { createTestNamespace, eventually, testEnv } from "@minitask/testenv/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import { installCrds } from "./support/cluster.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "artifacts", "dashboard.png");
/** Appears in the Task's step script and env, and in the run's param value: never in the page. */
const SECRET = "s3cr3t-marker-do-not-show";

/** The phases a run's row can show, in the only order a successful run may go through them. */
const PHASE_ORDER = ["New", "Pending", "Running", "Succeeded"];

/**
 * Page-side script (a string: the test program has no DOM types): marks this page load and records, in
 * `window.__phases`, every `data-phase` the row of run `name` shows, in order.
 */
function recordPhasesScript(name: string): string {
  return `(() => {
    window.__loadToken = "loaded-once";
    window.__phases = [];
    const tbody = document.querySelector("#runs tbody");
    if (!tbody) throw new Error("no runs table");
    const record = () => {
      const phase = tbody.querySelector('tr[data-run=${JSON.stringify(name)}]')?.getAttribute("data-phase");
      const seen = window.__phases;
      if (phase && seen[seen.length - 1] !== phase) seen.push(phase);
    };
    new MutationObserver(record).observe(tbody, { childList: true, subtree: true, attributes: true });
  })()`;
}

interface PageState {
  /** Every phase the run's row showed, in order. */
  readonly phases: string[];
  /** Set by `recordPhasesScript`; a reload would lose it. */
  readonly token: string | undefined;
  /** Navigation entries of this document: 1 unless it was reloaded. */
  readonly navigations: number;
}
const PAGE_STATE_SCRIPT = `({
  phases: window.__phases ?? [],
  token: window.__loadToken,
  navigations: performance.getEntriesByType("navigation").length,
})`;

describe("dashboard in headless Chromium", () => {
  let client: KubeClient;
  let ns: string;
  let controller: ControllerProcess | undefined;
  let dashboardPort: number;
  let userDataDir: string;
  let browser: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  /** Every WebSocket frame the page received. */
  const frames: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`);
    }
    await installCrds();
    client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
    ns = await createTestNamespace("dashboard");
    await taskClient(client, ns).create({
      metadata: { name: "hello" },
      spec: {
        description: "Says hello, then goodbye",
        params: [{ name: "who", default: "world" }],
        steps: [
          {
            name: "greet",
            image: "busybox",
            script: `echo hello $(params.who) # ${SECRET}`,
            env: [{ name: "TOKEN", value: SECRET }],
          },
          { name: "farewell", image: "busybox", script: "echo bye" },
        ],
      },
    });

    dashboardPort = await freePort();
    controller = await startControllerProcess(testEnv().kubeconfig, [
      `--namespace=${ns}`,
      `--dashboard-bind-address=127.0.0.1:${dashboardPort}`,
    ]);
    const proc = controller;
    await eventually("the controller to be ready", async () => {
      if (proc.child.exitCode !== null) throw new Error(`controller exited:\n${proc.output()}`);
      return (await httpGet(proc.healthPort, "/readyz")).status === 200 ? true : undefined;
    });
    expect((await httpGet(dashboardPort, "/healthz")).status).toBe(200);

    userDataDir = mkdtempSync(join(tmpdir(), "minitask-chromium-"));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 800 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    page.on("console", (msg) => {
      // The browser's own favicon request is answered 404 by the dashboard server: not a page error.
      if (msg.type() === "error" && !msg.location().url.endsWith("/favicon.ico")) {
        pageErrors.push(`${msg.text()} (${msg.location().url})`);
      }
    });
    page.on("websocket", (ws) => {
      ws.on("framereceived", (f) => frames.push(typeof f.payload === "string" ? f.payload : f.payload.toString()));
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (controller) {
      const code = await controller.stop("SIGTERM");
      expect(code).toBe(0);
    }
    await client?.close();
  });

  it("shows a run started after the page loaded, live, until it Succeeded", async () => {
    await page.goto(`http://127.0.0.1:${dashboardPort}/`);
    // The snapshot: connected, the Task listed (names of steps, never their scripts), no runs yet.
    await page.locator("#conn.live").waitFor({ timeout: 30_000 });
    const taskRow = page.locator("#tasks tbody tr", { hasText: "hello" });
    await taskRow.waitFor({ timeout: 30_000 });
    expect(await taskRow.textContent()).toContain("greet → farewell");
    expect(await page.locator("#runs tbody tr[data-run]").count()).toBe(0);

    // Mark this page load and record every phase the run's row goes through.
    const runName = `hello-run-${Math.random().toString(36).slice(2, 7)}`;
    await page.evaluate(recordPhasesScript(runName));

    await taskRunClient(client, ns).create({
      metadata: {
        name: runName,
        // kwok test hook (copied to the pod): each simulated stage takes 1 s, so the run is seen moving.
        annotations: { "testenv.minitask.dev/delay": "1s" },
      },
      spec: { taskRef: "hello", params: [{ name: "who", value: SECRET }] },
    });

    const row = page.locator(`#runs tbody tr[data-run="${runName}"]`);
    await row.waitFor({ timeout: 30_000 });
    await eventually(
      "the run's row to show Succeeded",
      async () => ((await row.getAttribute("data-phase")) === "Succeeded" ? true : undefined),
      90_000,
    );

    // Live, not reloaded: the same page load saw every phase, in order, starting before Succeeded.
    const { phases, token, navigations } = await page.evaluate<PageState>(PAGE_STATE_SCRIPT);
    expect(token).toBe("loaded-once");
    expect(navigations).toBe(1);
    expect(phases.at(-1)).toBe("Succeeded");
    expect(phases.length).toBeGreaterThan(1);
    const order = phases.map((p) => PHASE_ORDER.indexOf(p));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    // Per-step progress and the counters follow the run.
    expect(await row.locator(".step.Succeeded").count()).toBe(2);
    expect(await row.locator("td").nth(2).textContent()).toBe("hello");
    expect(await page.locator("#counts .count", { hasText: "Succeeded" }).locator("b").textContent()).toBe("1");
    // The chart has a bar for the finished run.
    expect(await page.locator("#chart rect").count()).toBeGreaterThan(0);

    // Nothing secret reached the browser: not in the DOM, not in any WebSocket frame.
    const html = await page.content();
    expect(html).not.toContain(SECRET);
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);

    mkdirSync(join(ROOT, "artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });
});

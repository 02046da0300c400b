// The live dashboard in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core)
// opens the page of a real minitask-controller, then a TaskRun is created; the run must appear and reach
// Succeeded over the WebSocket without a reload, and no step script or env value may reach the browser.
// Then a run's own page on the real node: two steps printing known lines, the second waiting for a file the
// test writes into the shared workspace, so its first line must show while it still runs; its timeline, exit
// codes, durations, logs, sidecar, results, earlier attempts and events, opened by a click and directly; and
// the log streams closed when the browser leaves. Screenshots are left in artifacts/dashboard.png and
// .cache/dashboard/run-page.png (both git-ignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "@minitask/client";
import { type ControllerProcess, httpGet, startControllerProcess } from "@minitask/taskrunner/testing";
import { freePort } from "@minitask/testenv";
import { createTestNamespace, eventually, kubectl, testEnv } from "@minitask/testenv/testing";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { taskClient, taskRunClient } from "../src/generated/minitask.myorg.dev/v1/index.ts";
import { installCrds } from "./support/cluster.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "artifacts", "dashboard.png");
const RUN_PAGE_SCREENSHOT = join(ROOT, ".cache", "dashboard", "run-page.png");
const B = "busybox:1.36";
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

function launchBrowser(userDataDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
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
}

/** Collects the page's errors and every WebSocket frame it receives. */
function watchPage(page: Page, pageErrors: string[], frames: string[]): void {
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
}

/** Starts a controller for one namespace with its dashboard on a free port; resolves once it is ready. */
async function startDashboardController(ns: string): Promise<{ controller: ControllerProcess; port: number }> {
  const port = await freePort();
  const controller = await startControllerProcess(testEnv().kubeconfig, [
    `--namespace=${ns}`,
    `--dashboard-bind-address=127.0.0.1:${port}`,
  ]);
  await eventually("the controller to be ready", async () => {
    if (controller.child.exitCode !== null) throw new Error(`controller exited:\n${controller.output()}`);
    return (await httpGet(controller.healthPort, "/readyz")).status === 200 ? true : undefined;
  });
  expect((await httpGet(port, "/healthz")).status).toBe(200);
  return { controller, port };
}

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

    ({ controller, port: dashboardPort } = await startDashboardController(ns));

    userDataDir = mkdtempSync(join(tmpdir(), "minitask-chromium-"));
    browser = await launchBrowser(userDataDir);
    page = browser.pages()[0] ?? (await browser.newPage());
    watchPage(page, pageErrors, frames);
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

/** What a step's block on the run page shows. */
interface StepBlock {
  readonly state: string | null;
  readonly exit: string;
  readonly dur: string;
  readonly log: string;
}

describe("a run's own page in headless Chromium, on the real node", () => {
  let client: KubeClient;
  let ns: string;
  let controller: ControllerProcess | undefined;
  let port: number;
  let userDataDir: string;
  let browser: BrowserContext | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const frames: string[] = [];
  const base = () => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    await installCrds();
    client = KubeClient.load({ kubeconfig: testEnv().kubeconfig });
    ns = await createTestNamespace("dashboard-run", { node: "real" });
    ({ controller, port } = await startDashboardController(ns));
    userDataDir = mkdtempSync(join(tmpdir(), "minitask-chromium-"));
    browser = await launchBrowser(userDataDir);
    page = browser.pages()[0] ?? (await browser.newPage());
    watchPage(page, pageErrors, frames);
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (controller) expect(await controller.stop("SIGTERM")).toBe(0);
    await client?.close();
  });

  const stepBlock = (p: Page, step: string, root = "#steps") => p.locator(`${root} details.block[data-step="${step}"]`);
  /** What a step's block shows now (all empty while there is no block). */
  async function readStep(p: Page, step: string, root = "#steps"): Promise<StepBlock> {
    const b = stepBlock(p, step, root);
    if ((await b.count()) === 0) return { state: null, exit: "", dur: "", log: "" };
    const text = async (sel: string) => {
      const l = b.locator(sel);
      return (await l.count()) > 0 ? ((await l.first().textContent()) ?? "") : "";
    };
    return {
      state: await b.getAttribute("data-state"),
      exit: await text("summary .exit"),
      dur: await text("summary .dur"),
      log: await text("pre.log"),
    };
  }
  const until = <T>(what: string, check: () => Promise<T | undefined>, ms = 90_000) => eventually(what, check, ms);
  /** The dashboard's own account of the log streams it opened and closed for one container. */
  const streamLogs = (container: string) =>
    (controller?.logs() ?? []).filter(
      (l) => l.container === container && String(l.msg).startsWith("dashboard: log stream"),
    ) as { msg: string; reason?: string }[];

  it("shows both steps with exit codes, durations and their logs, live, with the sidecar, results and events", async () => {
    await taskClient(client, ns).create({
      metadata: { name: "two-steps" },
      spec: {
        params: [{ name: "who", default: "world" }],
        workspaces: [{ name: "shared" }],
        results: [{ name: "greeting" }],
        sidecars: [
          {
            name: "helper",
            image: B,
            script: "trap 'exit 0' TERM; echo sidecar ready; while true; do sleep 0.2; done",
          },
        ],
        steps: [
          {
            name: "hello",
            image: B,
            env: [{ name: "TOKEN", value: SECRET }],
            // The param's value is used, never printed.
            script: `: "$(params.who)" # ${SECRET}\necho "hello line one"\necho "hello line two"\nprintf hi > $(results.greeting.path)`,
          },
          {
            name: "wait",
            image: B,
            // Prints, then waits (at most 2 minutes) for the file the test writes into the workspace.
            script:
              'echo "waiting for go"\ni=0\nwhile [ ! -f $(workspaces.shared.path)/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\necho "released by go"',
          },
        ],
      },
    });

    await page.goto(`${base()}/`);
    await page.locator("#conn.live").waitFor({ timeout: 30_000 });
    await page.evaluate(`window.__loadToken = "loaded-once"`);
    const runName = `two-steps-run-${Math.random().toString(36).slice(2, 7)}`;
    await taskRunClient(client, ns).create({
      metadata: { name: runName },
      spec: {
        taskRef: "two-steps",
        params: [{ name: "who", value: SECRET }],
        workspaces: [{ name: "shared", emptyDir: {} }],
      },
    });

    // A click on the run's row opens its page, without a reload.
    const row = page.locator(`#runs tbody tr[data-run="${runName}"]`);
    await row.waitFor({ timeout: 30_000 });
    await row.locator("td").nth(2).click();
    await page.waitForURL(`${base()}/runs/${ns}/${runName}`);
    await page.locator("#run-view").waitFor({ state: "visible" });
    expect(await page.locator("#list-view").isHidden()).toBe(true);
    expect(await page.locator("#run-head h2").textContent()).toBe(runName);

    // The first step finishes: exit 0, a duration, both its lines.
    const hello = await until("the hello step's log and exit code", async () => {
      const s = await readStep(page, "hello");
      return s.state === "Succeeded" && s.log.includes("hello line two") ? s : undefined;
    });
    expect(hello.log).toBe("hello line one\nhello line two\n");
    expect(hello.exit).toBe("exit 0");
    expect(hello.dur).toMatch(/^\d+s$/);

    // The second step's first line shows while the step still runs (it waits for the file; the run, read from
    // the apiserver, agrees). The log may come before the run's status says Running: both are waited for.
    const waiting = await until("the wait step's first line, live", async () => {
      const s = await readStep(page, "wait");
      return s.log.includes("waiting for go") && s.state === "Running" ? s : undefined;
    });
    expect(waiting.log).toBe("waiting for go\n");
    expect(waiting.exit).toBe("");
    const live = await taskRunClient(client, ns).get(runName);
    expect(live.status?.phase).toBe("Running");
    expect(live.status?.steps?.find((s) => s.name === "wait")?.state).toBe("Running");
    const podName = live.status?.podName ?? "";
    expect(podName).not.toBe("");

    // Opened directly, in a second tab, the page joins the same stream and shows what was printed so far.
    const direct = await browser!.newPage();
    const directErrors: string[] = [];
    watchPage(direct, directErrors, frames);
    await direct.goto(`${base()}/runs/${ns}/${runName}`);
    await until("the direct page's log", async () =>
      (await readStep(direct, "wait")).log.includes("waiting for go") ? true : undefined,
    );
    expect((await readStep(direct, "hello")).log).toBe("hello line one\nhello line two\n");
    await direct.close();
    expect(directErrors).toEqual([]);

    // Leaving the run page closes its log streams; coming back opens them again and shows the log from the start.
    const opened = () => streamLogs("step-wait").filter((l) => l.msg.endsWith("opened")).length;
    const closedLeft = () =>
      streamLogs("step-wait").filter((l) => l.msg.endsWith("closed") && l.reason === "no browser shows it").length;
    expect(closedLeft()).toBe(0);
    await page.locator("#run-view nav a[data-nav]").click();
    await page.locator("#list-view").waitFor({ state: "visible" });
    await until("the wait step's stream closed", async () => (closedLeft() === 1 ? true : undefined), 10_000);
    await page.goBack();
    await page.locator("#run-view").waitFor({ state: "visible" });
    await until("the wait step's log again", async () =>
      (await readStep(page, "wait")).log === "waiting for go\n" ? true : undefined,
    );
    await until("the wait step's stream opened again", async () => (opened() === 2 ? true : undefined), 10_000);

    // Unblock the step: its last line, exit code and duration arrive, and the run succeeds.
    await kubectl(["exec", "-n", ns, podName, "-c", "step-wait", "--", "touch", "/workspace/shared/go"]);
    const done = await until("the wait step to finish on the page", async () => {
      const s = await readStep(page, "wait");
      return s.state === "Succeeded" && s.log.includes("released by go") ? s : undefined;
    });
    expect(done.log).toBe("waiting for go\nreleased by go\n");
    expect(done.exit).toBe("exit 0");
    expect(done.dur).toMatch(/^\d+s$/);
    await until("the run to show Succeeded", async () =>
      (await page.locator("#run-head").getAttribute("data-phase")) === "Succeeded" ? true : undefined,
    );
    expect(await page.locator("#timeline .tl-row .tl-bar.Succeeded").count()).toBe(2);
    expect(await page.locator('#timeline .tl-row[data-step="wait"] .tl-info').textContent()).toMatch(/^\d+s · exit 0$/);

    // Results, the sidecar (its log on opening it) and the events of the run and its pod.
    expect(await page.locator('#results tr[data-result="greeting"] pre').textContent()).toBe("hi");
    const sidecar = page.locator('#sidecars details.block[data-sidecar="helper"]');
    await sidecar.locator("summary").click();
    await until("the sidecar's log", async () =>
      ((await sidecar.locator("pre.log").textContent()) ?? "").includes("sidecar ready") ? true : undefined,
    );
    await until("the run's events", async () =>
      (await page.locator('#events tbody tr[data-reason="Succeeded"]').count()) > 0 ? true : undefined,
    );
    expect(await page.locator('#events tbody tr[data-reason="PodCreated"]').count()).toBe(1);
    await until("the pod's events (scheduler, kubelet)", async () =>
      (await page.locator("#events tbody tr td:nth-child(4)").allTextContents()).includes(`Pod ${podName}`)
        ? true
        : undefined,
    );

    // Live all along: the same page load, never reloaded.
    expect(await page.evaluate("window.__loadToken")).toBe("loaded-once");

    // Logs are shown; secrets, env and param values are not: not in the DOM, not in any frame.
    expect(await page.content()).not.toContain(SECRET);
    for (const f of frames) expect(f).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);

    mkdirSync(dirname(RUN_PAGE_SCREENSHOT), { recursive: true });
    await page.screenshot({ path: RUN_PAGE_SCREENSHOT, fullPage: true });
    process.stderr.write(`dashboard: run page screenshot in ${RUN_PAGE_SCREENSHOT}\n`);
  }, 240_000);

  it("shows each earlier attempt of a run with retries, with its own pod's logs", async () => {
    await taskClient(client, ns).create({
      metadata: { name: "flaky" },
      spec: {
        steps: [
          {
            name: "try",
            image: B,
            env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
            script: 'echo "attempt in $POD"\nexit 3',
          },
        ],
      },
    });
    const runName = "flaky-run";
    await taskRunClient(client, ns).create({ metadata: { name: runName }, spec: { taskRef: "flaky", retries: 1 } });
    await page.goto(`${base()}/runs/${ns}/${runName}`);
    await until("the run to fail after its retry", async () =>
      (await page.locator("#run-head").getAttribute("data-phase")) === "Failed" ? true : undefined,
    );
    expect(await page.locator('#run-head dd[data-fact="Attempt"]').textContent()).toBe("2 of 2");
    const current = await until("the current attempt's log", async () => {
      const s = await readStep(page, "try");
      return s.log.endsWith("\n") && s.exit ? s : undefined;
    });
    expect(current.log).toBe(`attempt in ${runName}-pod-retry1\n`);
    expect(current.exit).toBe("exit 3");

    const first = page.locator('#attempts details.attempt[data-attempt="1"]');
    expect(await first.locator("summary").textContent()).toContain(`pod ${runName}-pod`);
    expect(await first.locator("summary .phase").textContent()).toBe("Failed");
    await first.locator("summary").click();
    const earlier = await until("the first attempt's log", async () => {
      const s = await readStep(page, "try", '#attempts details.attempt[data-attempt="1"]');
      return s.log.endsWith("\n") && s.exit ? s : undefined;
    });
    expect(earlier.log).toBe(`attempt in ${runName}-pod\n`);
    expect(earlier.exit).toBe("exit 3");

    // Opened afresh after the run ended, the first attempt's log is read from its pod when the attempt is opened.
    const fresh = await browser!.newPage();
    const freshErrors: string[] = [];
    watchPage(fresh, freshErrors, []);
    await fresh.goto(`${base()}/runs/${ns}/${runName}`);
    const attempt = fresh.locator('#attempts details.attempt[data-attempt="1"]');
    await attempt.locator("summary").click();
    const again = await until("the first attempt's log in a fresh page", async () => {
      const s = await readStep(fresh, "try", '#attempts details.attempt[data-attempt="1"]');
      return s.log.endsWith("\n") ? s : undefined;
    });
    expect(again.log).toBe(`attempt in ${runName}-pod\n`);
    await fresh.close();
    expect(freshErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});

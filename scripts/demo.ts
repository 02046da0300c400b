// npm run demo [-- --once]
//
// The project's main job in one command: bring up the local control plane with a real node (building
// the binaries and images the first time), install the CRDs, start minitask-controller with its
// dashboard, apply the example hello Task, start a run with `kubectl task start hello --follow` — whose
// steps run as real containers, with real output — then keep everything running until Ctrl-C (or, with
// --once, exit with the run's result). Where this machine cannot run the real node, kwok simulates it.
// Every command it prints works as printed, from the repository's root folder: demo.cluster.test.ts runs them.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ControlPlane, cacheRoot, freePort, type NodeKind, realNodeSupport } from "@minitask/testenv";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const once = process.argv.includes("--once");
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const say = (s = "") => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`${bold("==>")} ${s}`);

const stateDir = process.env.MINITASK_DEMO_DIR || join(cacheRoot(), "demo");
const children: ChildProcess[] = [];
let cp: ControlPlane | undefined;
let tearingDown = false;

async function teardown(code: number): Promise<never> {
  if (!tearingDown && (cp !== undefined || children.length > 0)) {
    tearingDown = true;
    step("tearing down");
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    const left = (await cp?.stop().catch((err: unknown) => [String(err)])) ?? [];
    if (left.length > 0) say(`left behind (remove by hand): ${left.join(", ")}`);
    else say(dim("everything stopped; the control plane's state is removed"));
  }
  process.exit(code);
}

function onSignal(): void {
  if (tearingDown) process.exit(130);
  void teardown(0);
}
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

async function main(): Promise<void> {
  const dashboardPort = await dashboardPortFromEnv();
  say(bold("Mini Task Runner demo"));
  const old = ControlPlane.attach(stateDir);
  if (old) await old.stop();
  const support = realNodeSupport();
  const node: NodeKind = support.ok ? "real" : "kwok";
  if (node === "real") {
    say(
      dim(
        "A real kube-apiserver + etcd and a real node (kubelet + containerd) run locally: the steps run as real containers.",
      ),
    );
  } else {
    say(dim(`No real node here (${support.ok ? "" : support.reason}): kwok simulates the nodes and pods instead,`));
    say(dim("so no containers run on this machine and the steps have no output."));
  }
  say();

  step(
    node === "real"
      ? "starting the local control plane and the real node (the first run builds Kubernetes, the kubelet and the images; that takes a while)"
      : "starting the local control plane (the first run builds Kubernetes from Go modules; that takes a while)",
  );
  mkdirSync(stateDir, { recursive: true });
  cp = await ControlPlane.start({ stateDir, node, log: (l) => say(dim(`    ${l}`)) });
  const kubectl = cp.state.kubectl;
  const kc = ["--kubeconfig", cp.kubeconfig];
  say(dim(`    apiserver ${cp.state.server}, kubeconfig ${cp.kubeconfig}`));

  step("installing the Task and TaskRun CRDs (crds/)");
  execFileSync(kubectl, [...kc, "apply", "-f", join(ROOT, "crds")], { stdio: "ignore" });
  execFileSync(
    kubectl,
    [...kc, "wait", "--for=condition=Established", "crd/tasks.minitask.myorg.dev", "crd/taskruns.minitask.myorg.dev"],
    { stdio: "ignore" },
  );

  step("starting minitask-controller with its dashboard");
  const logFile = join(stateDir, "logs", "minitask-controller.log");
  const logFd = openSync(logFile, "a");
  const controller = spawn(
    process.execPath,
    [
      "--conditions=minitask-source",
      "--disable-warning=ExperimentalWarning",
      join(ROOT, "packages/taskrunner/src/cli/minitask-controller.ts"),
      ...kc,
      "--metrics-bind-address=127.0.0.1:0",
      "--health-probe-bind-address=127.0.0.1:0",
      `--dashboard-bind-address=127.0.0.1:${dashboardPort}`,
    ],
    { stdio: ["ignore", logFd, logFd], env: { ...process.env, NO_COLOR: "1" } },
  );
  children.push(controller);
  controller.on("exit", (code) => {
    if (!tearingDown) {
      say(`minitask-controller exited unexpectedly (code ${code}); its log: ${logFile}`);
      void teardown(1);
    }
  });
  const dashboard = `http://127.0.0.1:${dashboardPort}/`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${dashboard}healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error(`the controller did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  say(dim(`    dashboard ${dashboard}   log ${logFile}`));

  step("applying the example Task (examples/tasks/hello.yaml)");
  execFileSync(kubectl, [...kc, "apply", "-n", "default", "-f", join(ROOT, "examples/tasks/hello.yaml")], {
    stdio: "ignore",
  });

  step("kubectl task start hello --follow");
  const plugin = join(ROOT, "packages/taskrunner/bin/kubectl-task.js");
  const run = spawn(process.execPath, [plugin, "start", "hello", "--follow", ...kc, "-n", "default"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.push(run);
  const result = await new Promise<number>((r) => run.on("exit", (code) => r(code ?? 1)));
  say();
  say(result === 0 ? bold("The run Succeeded.") : bold(`The run failed (exit ${result}).`));
  if (once) await teardown(result);

  say();
  // After the label column, each line is a shell command (or a comment) that works as printed, in this order,
  // in a shell in the repository's folder: demo.cluster.test.ts runs them.
  say(bold("Explore (in a shell in this folder):"));
  say(`  dashboard        ${dashboard}`);
  say(`  your shell       export KUBECONFIG=${cp.kubeconfig} PATH="${pluginPath(kubectl)}:$PATH"`);
  say(dim("                   # that folder has this control plane's kubectl, kubectl-task and kubectl_complete-task"));
  say("  the plugin       kubectl task runs");
  say("  more examples    kubectl apply -f examples/tasks/ && kubectl create -f examples/taskruns/greet-run.yaml");
  say("                   kubectl create -f examples/taskruns/build-and-test-run.yaml   # a workspace, results");
  say("                   kubectl task start greet -p who=you --follow");
  say(`  one executable   npm run build:plugin   ${dim("# kubectl task without Node.js (docs/plugin.md)")}`);
  say(`  controller log   ${logFile}`);
  say();
  if (node === "real") {
    say(dim("The real node has busybox (busybox:1.36, busybox:latest); docs/real-node.md says how to add images."));
  } else {
    say(dim("These pods are simulated by kwok. To run real containers, point KUBECONFIG at a real cluster (kind,"));
    say(
      dim(
        "minikube, or any kubeconfig), then: kubectl apply -f crds/ && kubectl apply -k deploy/ (or run minitask-controller locally).",
      ),
    );
  }
  say();
  say(bold("Running until Ctrl-C …"));
  await new Promise(() => {});
}

/**
 * A folder with `kubectl-task` and `kubectl_complete-task` as kubectl expects plugins (no `.js`; kubectl
 * would list `kubectl-task.js` as a plugin named `task.js`), and the control plane's `kubectl`, for the PATH
 * line the demo prints: it works on a machine without kubectl of its own.
 */
function pluginPath(kubectl: string): string {
  const dir = join(stateDir, "bin");
  mkdirSync(dir, { recursive: true });
  for (const name of ["kubectl-task", "kubectl_complete-task"]) {
    const file = join(dir, name);
    const target = join(ROOT, "packages/taskrunner/bin", `${name}.js`);
    writeFileSync(file, `#!/bin/sh\nexec "${process.execPath}" "${target}" "$@"\n`);
    chmodSync(file, 0o755);
  }
  rmSync(join(dir, "kubectl"), { force: true });
  symlinkSync(kubectl, join(dir, "kubectl"));
  return dir;
}

/** MINITASK_DEMO_DASHBOARD_PORT when set (and valid), otherwise a free port. */
async function dashboardPortFromEnv(): Promise<number> {
  const raw = process.env.MINITASK_DEMO_DASHBOARD_PORT;
  if (raw === undefined || raw === "") return freePort();
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`MINITASK_DEMO_DASHBOARD_PORT must be a port number (1-65535), got "${raw}"`);
  }
  return port;
}

main().catch(async (err: unknown) => {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  await teardown(1);
});

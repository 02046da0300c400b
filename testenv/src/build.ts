// Builds the control-plane binaries from Go modules (no release tarballs or images can be fetched
// here) and caches them per version. Rebuilds only what is missing.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BINARIES, type BinaryName, type BinarySpec, cacheRoot, MIN_GO } from "./versions.ts";

export class TestEnvError extends Error {
  override readonly name = "TestEnvError";
}

export const GO_DIR = fileURLToPath(new URL("../go/", import.meta.url));

/** Where each binary lives (whether or not it is built yet). */
export function binaryPaths(env: NodeJS.ProcessEnv = process.env): Record<BinaryName, string> {
  const root = join(cacheRoot(env), "bin");
  const out = {} as Record<BinaryName, string>;
  for (const b of BINARIES) out[b.name as BinaryName] = join(root, b.dir, b.name);
  return out;
}

/** Checks that `go` exists and is new enough; throws a one-line, actionable error otherwise. */
export function checkGo(env: NodeJS.ProcessEnv = process.env): string {
  const need = `Go >= ${MIN_GO.major}.${MIN_GO.minor}`;
  const res = spawnSync("go", ["env", "GOVERSION"], { encoding: "utf8", env });
  if (res.error || res.status !== 0) {
    throw new TestEnvError(
      `${need} is needed to build the local control plane, but 'go' was not found on PATH (https://go.dev/dl)`,
    );
  }
  const version = res.stdout.trim();
  const m = /^go(\d+)\.(\d+)/.exec(version);
  const major = Number(m?.[1] ?? 0);
  const minor = Number(m?.[2] ?? 0);
  if (major < MIN_GO.major || (major === MIN_GO.major && minor < MIN_GO.minor)) {
    throw new TestEnvError(`${need} is needed to build the local control plane; found ${version || "unknown"}`);
  }
  return version;
}

export interface BuildOptions {
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Builds one Go package of a testenv/go wrapper module into `out` (atomically), appending to `logFile`. */
export async function buildGoBinary(
  spec: BinarySpec,
  out: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  mkdirSync(join(out, ".."), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const log = createWriteStream(logFile, { flags: "a" });
  const args = ["build", "-trimpath", "-ldflags", spec.ldflags, "-o", tmp, spec.pkg];
  log.write(`$ go ${args.join(" ")}\n`);
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn("go", args, {
      cwd: join(GO_DIR, spec.module),
      env: { ...env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", reject);
    child.on("close", (c) => resolve(c ?? 1));
  });
  await new Promise<void>((r) => log.end(r));
  if (code !== 0) {
    throw new TestEnvError(`building ${spec.name} failed (exit ${code}); log: ${logFile}\n${tail(logFile)}`);
  }
  renameSync(tmp, out);
}

/**
 * Makes sure every binary is built; returns their paths. A cold build takes many minutes on 2 cores,
 * so progress is printed per binary and the full log is kept under the cache folder.
 */
export async function ensureBinaries(opts: BuildOptions = {}): Promise<Record<BinaryName, string>> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const paths = binaryPaths(env);
  const missing = BINARIES.filter((b) => !existsSync(paths[b.name as BinaryName]));
  if (missing.length === 0) return paths;
  const goVersion = checkGo(env);
  const logDir = join(cacheRoot(env), "logs");
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, "build.log");
  log(`testenv: building ${missing.map((b) => b.name).join(", ")} with ${goVersion} (log: ${logFile})`);
  log("testenv: a cold build takes a long time on a small machine; later runs reuse the cache");
  let i = 0;
  for (const spec of missing) {
    i++;
    const started = Date.now();
    log(`testenv: [${i}/${missing.length}] building ${spec.name} …`);
    await buildGoBinary(spec, paths[spec.name as BinaryName], logFile, env);
    log(`testenv: [${i}/${missing.length}] ${spec.name} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return paths;
}

// Builds a Go peer of bench/peers/<name> (a client-go program of our own, its own module with go.mod and
// go.sum committed) once into $MINITASK_CACHE_DIR/bench (default ~/.cache/minitask/bench), named by a hash of
// the Go version and the module's sources, and returns the binary's path. GOTOOLCHAIN=local: the installed
// Go builds it, from the module cache or the Go module proxy.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const peersDir = fileURLToPath(new URL("../peers/", import.meta.url));

export function benchCacheDir(): string {
  return join(process.env.MINITASK_CACHE_DIR ?? join(homedir(), ".cache", "minitask"), "bench");
}

export interface GoPeer {
  readonly path: string;
  readonly goVersion: string;
}

/**
 * The binary of bench/peers/`name`, `<name>-peer-<hash>` in the cache, built when missing (a few minutes the
 * first time). The hash covers the Go version, every .go file (sorted) and go.mod and go.sum.
 */
export async function buildGoPeer(name: string, log: (line: string) => void): Promise<GoPeer> {
  const dir = join(peersDir, name);
  const env = { ...process.env, GOTOOLCHAIN: "local" };
  const goVersion = (await execFileAsync("go", ["env", "GOVERSION"], { env })).stdout.trim();
  const hash = createHash("sha256");
  hash.update(goVersion);
  const sources = (await readdir(dir)).filter((f) => f.endsWith(".go")).sort();
  for (const f of [...sources, "go.mod", "go.sum"]) hash.update(await readFile(join(dir, f)));
  const out = benchCacheDir();
  const path = join(out, `${name}-peer-${hash.digest("hex").slice(0, 16)}`);
  if (!existsSync(path)) {
    log(`building the client-go peer ${name} (${goVersion}) into ${path} (a few minutes the first time) ...`);
    await mkdir(out, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await execFileAsync("go", ["build", "-trimpath", "-o", tmp, "."], { cwd: dir, env, maxBuffer: 16 << 20 });
    await rename(tmp, path);
  }
  return { path, goVersion };
}

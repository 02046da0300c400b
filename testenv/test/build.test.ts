// Errors a user can act on when the Go toolchain is missing or too old (no cluster needed).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { binaryPaths, checkGo, TestEnvError } from "../src/build.ts";
import { cacheRoot, KUBERNETES_VERSION } from "../src/versions.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeGo(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fake-go-"));
  dirs.push(dir);
  const go = join(dir, "go");
  writeFileSync(go, `#!/bin/sh\necho ${version}\n`);
  chmodSync(go, 0o755);
  return dir;
}

describe("checkGo", () => {
  it("names the needed version when go is missing", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-go-"));
    dirs.push(empty);
    expect(() => checkGo({ ...process.env, PATH: empty })).toThrow(
      /^Go >= 1\.26 is needed to build the local control plane, but 'go' was not found on PATH/,
    );
  });

  it("names the needed and the found version when go is too old", () => {
    const err = (() => {
      try {
        checkGo({ ...process.env, PATH: fakeGo("go1.22.5") });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TestEnvError);
    expect((err as Error).message).toBe("Go >= 1.26 is needed to build the local control plane; found go1.22.5");
  });

  it("accepts a new enough go", () => {
    expect(checkGo({ ...process.env, PATH: fakeGo("go1.27.0") })).toBe("go1.27.0");
  });
});

describe("binary cache", () => {
  it("keys binaries by version under MINITASK_CACHE_DIR", () => {
    const env = { MINITASK_CACHE_DIR: "/x/cache" };
    expect(cacheRoot(env)).toBe("/x/cache");
    expect(binaryPaths(env)["kube-apiserver"]).toBe(`/x/cache/bin/kube-${KUBERNETES_VERSION}/kube-apiserver`);
  });
});

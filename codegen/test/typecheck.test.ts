// The generated code compiles in strict mode: the goldens (which include every construct) and the
// type-level tests in typing/usage.ts, with the repository's tsc and compiler options.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoRoot, tscBin } from "./support/helpers.ts";

const run = promisify(execFile);

describe("generated code", () => {
  it("passes tsc --noEmit in strict mode (goldens and typing/usage.ts)", async () => {
    const project = join(repoRoot, "codegen/test/golden/tsconfig.json");
    const result = await run(tscBin, ["-p", project, "--noEmit"], { cwd: repoRoot }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({
        code: e.code ?? 1,
        out: `${e.stdout ?? ""}${e.stderr ?? ""}`,
      }),
    );
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  }, 60_000);
});

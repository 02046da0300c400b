// Formatting generated files with the repository's Biome (the same formatter and import organizer that
// `npm run lint` checks), so that generated code passes lint whatever the input. The printer already
// writes Biome's layout for everything common; Biome settles the rest (very long names and types).
// Without a Biome installation the printer's output is used as it is.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { GeneratedFile } from "./generate.ts";

export interface Biome {
  /** The `@biomejs/biome` launcher script. */
  readonly bin: string;
  /** Folder of the `biome.json` that configures formatting. */
  readonly configDir: string;
}

/** Finds `biome.json` in `start` or a parent folder, and the Biome installed next to it. */
export function findBiome(start: string): Biome | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "biome.json")) || existsSync(join(dir, "biome.jsonc"))) {
      try {
        const require = createRequire(join(dir, "package.json"));
        const pkg = require.resolve("@biomejs/biome/package.json");
        const bin = join(dirname(pkg), "bin", "biome");
        if (existsSync(bin)) return { bin, configDir: dir };
      } catch {
        // no Biome installed next to this configuration
      }
      return undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Formats `files` (and organizes their imports) with Biome in a temporary folder; returns the results. */
export async function formatWithBiome(files: readonly GeneratedFile[], biome: Biome): Promise<GeneratedFile[]> {
  const dir = await mkdtemp(join(tmpdir(), "minitask-codegen-"));
  try {
    for (const f of files) {
      const target = join(dir, f.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.content);
    }
    const args = [
      biome.bin,
      "check",
      "--write",
      "--linter-enabled=false",
      "--vcs-enabled=false",
      `--config-path=${biome.configDir}`,
      dir,
    ];
    const { code, output } = await run(process.execPath, args);
    if (code !== 0) {
      const line = output.split("\n").find((l) => l.trim() !== "") ?? `exit code ${code}`;
      throw new Error(`formatting the generated code with Biome failed: ${line.trim()}`);
    }
    return await Promise.all(
      files.map(async (f) => ({ path: f.path, content: await readFile(join(dir, f.path), "utf8") })),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

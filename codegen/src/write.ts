// Comparing generated files with an output folder, and writing them: each file goes to a temporary file
// next to it and is renamed into place, unchanged files are not touched, and files this generator wrote
// earlier that are no longer generated are deleted.
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type GeneratedFile, isGeneratedText } from "./generate.ts";
import { compareStrings } from "./load.ts";

export interface Plan {
  /** Files that do not exist yet. */
  readonly added: readonly string[];
  /** Files whose content changes. */
  readonly changed: readonly string[];
  readonly unchanged: readonly string[];
  /** Generated files (by their header) that are no longer generated. */
  readonly deleted: readonly string[];
}

/** What writing `files` into `outDir` would do (paths relative to `outDir`). */
export async function plan(outDir: string, files: readonly GeneratedFile[]): Promise<Plan> {
  const added: string[] = [];
  const changed: string[] = [];
  const unchanged: string[] = [];
  const wanted = new Set(files.map((f) => f.path));
  for (const f of files) {
    const current = await readFile(join(outDir, f.path), "utf8").catch(() => undefined);
    if (current === undefined) added.push(f.path);
    else if (current === f.content) unchanged.push(f.path);
    else changed.push(f.path);
  }
  const deleted: string[] = [];
  for (const existing of await listFiles(outDir)) {
    if (wanted.has(existing) || !existing.endsWith(".ts")) continue;
    const text = await readFile(join(outDir, existing), "utf8").catch(() => "");
    if (isGeneratedText(text)) deleted.push(existing);
  }
  return { added, changed, unchanged, deleted: deleted.sort(compareStrings) };
}

/** Applies a plan: writes added and changed files atomically (temp file + rename), deletes stale ones. */
export async function apply(outDir: string, files: readonly GeneratedFile[], p: Plan): Promise<void> {
  const write = new Set([...p.added, ...p.changed]);
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const staged: [string, string][] = [];
  try {
    // Stage everything first: a failure here leaves the output folder as it was (minus temp files).
    for (const f of files) {
      if (!write.has(f.path)) continue;
      const target = join(outDir, f.path);
      const temp = `${target}.${tag}.tmp`;
      await mkdir(dirname(target), { recursive: true });
      await writeFile(temp, f.content);
      staged.push([temp, target]);
    }
  } catch (err) {
    await Promise.all(staged.map(([temp]) => rm(temp, { force: true })));
    throw err;
  }
  for (const [temp, target] of staged) await rename(temp, target);
  for (const d of p.deleted) {
    await rm(join(outDir, d), { force: true });
    await removeEmptyDirs(outDir, dirname(join(outDir, d)));
  }
}

async function listFiles(root: string, prefix = ""): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(join(root, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listFiles(root, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

async function removeEmptyDirs(root: string, dir: string): Promise<void> {
  let d = dir;
  while (d.length > root.length && d.startsWith(root)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
    d = dirname(d);
  }
}

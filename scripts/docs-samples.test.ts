// Every TypeScript sample in the docs is type-checked, so the docs cannot rot: each ```ts block of docs/*.md and
// README.md is written to a temporary folder inside the repository (so `@minitask/*` resolve to the sources) and
// checked by the repository's `tsc` (TypeScript 7) with the strict settings of tsconfig.base.json.
//
// The info string after `ts` may hold flags:
//   no-check      a deliberately partial fragment: not checked (keep these few)
//   group=NAME    blocks of one file with the same group are checked as one module, in order (a walk-through)
//   at=DIR        check the block as if it lived in DIR (relative to the repository): its relative imports are
//                 rebased, e.g. `./generated/…` with at=packages/taskrunner/src
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSC = join(ROOT, "node_modules", ".bin", "tsc");

/** A fenced code block of a Markdown file. */
interface CodeBlock {
  /** Path relative to the repository. */
  readonly file: string;
  /** Line (1-based) of the first line of code, after the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly flags: ReadonlyMap<string, string | true>;
  readonly code: string;
}

/** The fenced code blocks of a Markdown text (``` or ~~~ fences, indented or not). */
function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const [, indent = "", fence = "```", lang = "", rest = ""] = open;
    const flags = new Map<string, string | true>();
    for (const word of rest.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf("=");
      if (eq < 0) flags.set(word, true);
      else flags.set(word.slice(0, eq), word.slice(eq + 1));
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] ?? "";
      const t = l.trim();
      if (t.length >= fence.length && t === (fence[0] ?? "`").repeat(t.length)) break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    blocks.push({ file, line: i + 2, lang: lang.toLowerCase(), flags, code: body.join("\n") });
    i = j;
  }
  return blocks;
}

const TS_LANGS = new Set(["ts", "typescript", "mts"]);

/** One module to check: one block, or the blocks of a group. */
interface Sample {
  readonly name: string;
  readonly parts: readonly CodeBlock[];
  readonly at: string | undefined;
}

/** The samples to check, and the blocks skipped with `no-check`. */
function collectSamples(blocks: readonly CodeBlock[]): { samples: Sample[]; skipped: CodeBlock[] } {
  const samples: Sample[] = [];
  const skipped: CodeBlock[] = [];
  const groups = new Map<string, { parts: CodeBlock[]; at: string | undefined }>();
  for (const b of blocks) {
    if (!TS_LANGS.has(b.lang)) continue;
    if (b.flags.has("no-check")) {
      skipped.push(b);
      continue;
    }
    const at = b.flags.get("at");
    const atDir = typeof at === "string" ? at : undefined;
    const group = b.flags.get("group");
    if (typeof group === "string") {
      const key = `${b.file}#${group}`;
      const g = groups.get(key);
      if (g) {
        g.parts.push(b);
        continue;
      }
      const created = { parts: [b], at: atDir };
      groups.set(key, created);
      samples.push({ name: key, parts: created.parts, at: atDir });
      continue;
    }
    samples.push({ name: `${b.file}:${b.line}`, parts: [b], at: atDir });
  }
  return { samples, skipped };
}

/** Rebases the relative import specifiers of `code` from `fromDir` to `toDir`. */
function rebaseImports(code: string, fromDir: string, toDir: string): string {
  return code.replace(/(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']+)\2/g, (_m, pre, q, spec) => {
    let rel = relative(toDir, resolve(fromDir, spec as string))
      .split("\\")
      .join("/");
    if (!rel.startsWith(".")) rel = `./${rel}`;
    return `${pre}${q}${rel}${q}`;
  });
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, "docs"), { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".md"))
    .map((d) => `docs/${d.name}`)
    .sort();
  return [...docs, "README.md"];
}

interface Written {
  readonly file: string;
  readonly sample: Sample;
  /** For each part: the first line of its code in the written file (1-based). */
  readonly offsets: readonly number[];
}

/** Maps a line of a written sample back to the Markdown file and line. */
function sourceOf(w: Written, line: number): string {
  let idx = 0;
  for (let k = 0; k < w.offsets.length; k++) if ((w.offsets[k] ?? 0) <= line) idx = k;
  const part = w.sample.parts[idx];
  if (!part) return w.sample.name;
  return `${part.file}:${part.line + line - (w.offsets[idx] ?? 0)}`;
}

const run = promisify(execFile);

describe("docs code samples", () => {
  const files = markdownFiles();
  const blocks = files.flatMap((f) => extractBlocks(readFileSync(join(ROOT, f), "utf8"), f));
  const { samples, skipped } = collectSamples(blocks);

  it("the extractor understands fences, flags, groups and no-check", () => {
    const md = [
      "text",
      "```ts group=a",
      "const x = 1;",
      "```",
      "  ```ts no-check",
      "  partial(",
      "  ```",
      "```sh",
      "echo hi",
      "```",
      "```ts group=a at=packages/taskrunner/src",
      "export { x };",
      "```",
      "```typescript",
      "export const y = 2;",
      "```",
    ].join("\n");
    const bs = extractBlocks(md, "x.md");
    expect(bs.map((b) => [b.lang, b.line, b.code])).toEqual([
      ["ts", 3, "const x = 1;"],
      ["ts", 6, "partial("],
      ["sh", 9, "echo hi"],
      ["ts", 12, "export { x };"],
      ["typescript", 15, "export const y = 2;"],
    ]);
    const { samples: s, skipped: k } = collectSamples(bs);
    expect(s.map((x) => [x.name, x.parts.length])).toEqual([
      ["x.md#a", 2],
      ["x.md:15", 1],
    ]);
    expect(k.map((b) => b.line)).toEqual([6]);
    expect(rebaseImports('import { a } from "./generated/x.ts";', join(ROOT, "packages/taskrunner/src"), ROOT)).toBe(
      'import { a } from "./packages/taskrunner/src/generated/x.ts";',
    );
  });

  it("the guides have TypeScript samples, and few are left unchecked", () => {
    for (const guide of ["docs/writing-a-controller.md", "docs/codegen.md"]) {
      expect(samples.some((s) => s.parts.some((p) => p.file === guide))).toBe(true);
    }
    expect(skipped.length).toBeLessThanOrEqual(Math.max(2, Math.floor(samples.length / 4)));
  });

  it("every checked sample type-checks with the repository's tsc and strict settings", async () => {
    // Inside the repository (git-ignored .cache/), so node_modules and the `minitask-source` condition apply.
    const cacheDir = join(ROOT, ".cache");
    mkdirSync(cacheDir, { recursive: true });
    const dir = mkdtempSync(join(cacheDir, "docs-samples-"));
    try {
      const written: Written[] = [];
      samples.forEach((sample, n) => {
        const file = `sample-${String(n).padStart(3, "0")}.ts`;
        const offsets: number[] = [];
        const lines = [`// ${sample.name}`];
        for (const part of sample.parts) {
          let code = part.code;
          if (sample.at !== undefined) code = rebaseImports(code, resolve(ROOT, sample.at), dir);
          offsets.push(lines.length + 1);
          lines.push(...code.split("\n"));
        }
        lines.push("export {};", "");
        writeFileSync(join(dir, file), lines.join("\n"));
        written.push({ file, sample, offsets });
      });
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          extends: relative(dir, join(ROOT, "tsconfig.base.json")),
          compilerOptions: { noEmit: true, declaration: false, sourceMap: false },
          include: ["*.ts"],
        }),
      );
      let output = "";
      try {
        await run(TSC, ["-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
          cwd: ROOT,
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        output = `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message;
      }
      // Errors as `docs/file.md:LINE: message`, pointing into the Markdown.
      const byFile = new Map(written.map((w) => [w.file, w]));
      const errors = output
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => {
          const m = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(l);
          if (!m) return l;
          const abs = isAbsolute(m[1] ?? "") ? (m[1] ?? "") : resolve(ROOT, m[1] ?? "");
          const w = dirname(abs) === dir ? byFile.get(relative(dir, abs)) : undefined;
          return w ? `${sourceOf(w, Number(m[2]))}: ${m[4]}` : l;
        });
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// Every TypeScript sample in the docs is type-checked, so the docs cannot rot: each ```ts block of docs/*.md and
// README.md is written to a temporary folder inside the repository (so `@minitask/*` resolve to the sources) and
// checked by the repository's `tsc` (TypeScript 7) with the strict settings of tsconfig.base.json.
//
// The shell commands are checked where that needs no cluster (the cluster tests run the demo's and the plugin's
// for real): every `npm run X` names a script of package.json, and its subcommand and --flags are in X's --help;
// every `kubectl task SUB` (or `kubectl-task SUB`) names a command of the plugin and only flags it has; every
// repository path a shell block names exists, and every folder it `kubectl apply -k`s is a kustomization whose
// resources lie inside it (kustomize's load restrictor); every relative Markdown link and its #anchor resolve.
//
// The info string after `ts` may hold flags:
//   no-check      a deliberately partial fragment: not checked (keep these few)
//   group=NAME    blocks of one file with the same group are checked as one module, in order (a walk-through)
//   at=DIR        check the block as if it lived in DIR (relative to the repository): its relative imports are
//                 rebased, e.g. `./generated/…` with at=packages/taskrunner/src
import { execFile, execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";

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

// ---------------------------------------------------------------------------------------------------
// Shell commands.

const SHELL_LANGS = new Set(["sh", "bash", "shell", "console"]);
const REPO_ROOTS =
  /^(?:\.\/)?(?:crds|deploy|deploy-local-node|examples|scripts|docs|testenv|packages|reliability|codegen|bench|tools|plugins)\//;

/** Stands for a table's `\|` while lines are split at pipes. */
const ALT = "\u2016";

/** A command line to check, with where it was found. */
interface CommandLine {
  readonly at: string;
  readonly words: readonly string[];
  /** From a shell block (paths are checked there only; inline code also names hypothetical files). */
  readonly shell: boolean;
}

/**
 * The command lines of a Markdown text: each line of a shell block and each inline code span, cut at a comment
 * and split at `&&`, `||`, `;` and pipes. In tables `\|` separates alternatives (`up\|down`), kept as `up|down`.
 */
function commandLines(markdown: string, file: string): CommandLine[] {
  const out: CommandLine[] = [];
  const add = (text: string, at: string, shell: boolean) => {
    const cut = text.replace(/\\\|/g, ALT).replace(/(^|\s)#.*$/, "");
    for (const part of cut.split(/&&|\|\||;|\||\$\(|\)"?/)) {
      const words = part
        .replaceAll(ALT, "|")
        .trim()
        .split(/\s+/)
        .filter((w) => w !== "");
      if (words.length > 0) out.push({ at, words, shell });
    }
  };
  for (const b of extractBlocks(markdown, file)) {
    if (!SHELL_LANGS.has(b.lang)) continue;
    b.code.split("\n").forEach((l, i) => {
      add(l, `${file}:${b.line + i}`, true);
    });
  }
  // Inline code outside fenced blocks.
  const lines = markdown.split("\n");
  let fence = false;
  lines.forEach((l, i) => {
    if (/^\s*(`{3,}|~{3,})/.test(l)) fence = !fence;
    if (fence) return;
    for (const m of l.matchAll(/`([^`]+)`/g)) add(m[1] ?? "", `${file}:${i + 1}`, false);
  });
  const line = (c: CommandLine) => Number(c.at.slice(c.at.lastIndexOf(":") + 1));
  return out.sort((a, b) => line(a) - line(b));
}

interface Cli {
  /** Subcommand names and aliases (empty when the program has none). */
  readonly commands: ReadonlySet<string>;
  /** Every option word its help lists (`-n`, `--namespace`, …). */
  readonly flags: ReadonlySet<string>;
  /** commander's help (a Commands: section): `SUB --help` is the subcommand's help, never a run of it. */
  readonly commander?: boolean;
}

/** The commands and flags of commander-style (or plain usage-line) help text. */
function parseHelp(help: string): Cli {
  const commands = new Set<string>();
  const flags = new Set<string>(["-h", "--help"]);
  let section = "";
  for (const line of help.split("\n")) {
    const head = /^(\w[\w ]*):\s*$/.exec(line);
    if (head) {
      section = head[1] ?? "";
      continue;
    }
    if (section === "Commands") {
      const m = /^ {2}([\w-]+)(\|[\w-]+)?/.exec(line);
      if (m?.[1]) commands.add(m[1]);
      if (m?.[2]) commands.add(m[2].slice(1));
    }
    for (const f of line.matchAll(/(?<![\w-])(--?[a-zA-Z][\w-]*)/g)) flags.add(f[1] ?? "");
    // usage: npm run bench -- <controller|informer|workqueue> [--json]
    const alt = /<([\w-]+(?:\|[\w-]+)+)>/.exec(line);
    if (alt?.[1]) for (const c of alt[1].split("|")) commands.add(c);
  }
  // commander lists `--no-x` for a negatable `--x`.
  for (const f of [...flags]) if (f.startsWith("--no-")) flags.add(`--${f.slice(5)}`);
  return { commands, flags, commander: /^Commands:$/m.test(help) };
}

/** A flag word of a command line (`--out`, `-p`, `--timeout=5m` → `--timeout`), or undefined for an argument. */
function flagOf(word: string): string | undefined {
  const w = word.replace(/^\[|\]$/g, "");
  return /^--?[a-zA-Z]/.test(w) ? (w.split("=")[0] ?? w) : undefined;
}

/** A word that stands for something (`NAME`, `<TAB>`, `…`), not a literal argument. */
function isPlaceholder(word: string): boolean {
  return /^<.*>$|^[A-Z][A-Z_]*$|…/.test(word);
}

/** Problems in the command lines: unknown npm scripts, subcommands and flags; missing paths. */
function commandProblems(
  cmds: readonly CommandLine[],
  ctx: {
    scripts: Readonly<Record<string, string>>;
    npmHelp: (script: string, sub?: string) => Cli | undefined;
    plugin: Cli;
    pluginSub: (sub: string) => Cli;
    exists: (path: string) => boolean;
    kustomization: (dir: string) => string[];
  },
): string[] {
  const problems: string[] = [];
  for (const c of cmds) {
    const w = c.words;
    for (let i = 0; i < w.length; i++) {
      // npm run [-s] NAME [-- ARGS]
      if (w[i] === "npm" && w[i + 1] === "run") {
        let j = i + 2;
        while (w[j]?.startsWith("-") && w[j] !== "--") j++;
        const name = w[j];
        if (name === undefined || name === "--" || !/^[a-z][\w:-]*$/.test(name)) continue;
        if (!(name in ctx.scripts)) {
          problems.push(`${c.at}: npm run ${name}: no such script in package.json`);
          continue;
        }
        if (w[j + 1] !== "--") continue;
        const help = ctx.npmHelp(name);
        if (help === undefined) continue;
        const args = w.slice(j + 2);
        const first = args[0]?.replace(/^\[|\]$/g, "");
        // The flags after a subcommand are the subcommand's (commander: `cluster up --help`).
        let flags = help.flags;
        if (help.commands.size > 0 && first !== undefined && flagOf(first) === undefined && !isPlaceholder(first)) {
          const subs = first.split("|");
          for (const sub of subs) {
            if (!help.commands.has(sub)) problems.push(`${c.at}: npm run ${name} -- ${sub}: no such command`);
          }
          const only =
            help.commander && subs.length === 1 && help.commands.has(first) ? ctx.npmHelp(name, first) : undefined;
          if (only !== undefined) flags = new Set([...help.flags, ...only.flags]);
        }
        for (const a of args) {
          const f = flagOf(a);
          if (f !== undefined && !flags.has(f)) problems.push(`${c.at}: npm run ${name} -- ${f}: no such flag`);
        }
      }
      // kubectl task SUB … / kubectl-task SUB …
      const pluginAt = w[i] === "kubectl" && w[i + 1] === "task" ? i + 2 : w[i] === "kubectl-task" ? i + 1 : -1;
      if (pluginAt >= 0) {
        let j = pluginAt;
        const globals = new Set(["-n", "--namespace", "--kubeconfig", "--context"]);
        while (w[j] !== undefined && globals.has(flagOf(w[j] ?? "") ?? "")) j += (w[j] ?? "").includes("=") ? 1 : 2;
        const sub = w[j];
        if (sub !== undefined && isPlaceholder(sub)) continue;
        if (sub === undefined || flagOf(sub) !== undefined) {
          for (const a of w.slice(pluginAt)) {
            const f = flagOf(a);
            if (f !== undefined && !ctx.plugin.flags.has(f)) problems.push(`${c.at}: kubectl task ${f}: no such flag`);
          }
          continue;
        }
        if (!ctx.plugin.commands.has(sub)) {
          problems.push(`${c.at}: kubectl task ${sub}: no such command`);
          continue;
        }
        const subHelp = ctx.pluginSub(sub);
        for (const a of w.slice(j + 1)) {
          if (a.startsWith(">") || a.startsWith("<")) break;
          const f = flagOf(a);
          if (f !== undefined && !subHelp.flags.has(f) && !ctx.plugin.flags.has(f)) {
            problems.push(`${c.at}: kubectl task ${sub} ${f}: no such flag`);
          }
        }
      }
    }
    if (!c.shell) continue;
    for (let i = 0; i < w.length; i++) {
      const word = (w[i] ?? "").replace(/^["']|["']$/g, "");
      // A repository path: under a top-level folder, a folder (trailing /) or a file with an extension.
      // (`deploy/minitask-controller` is kubectl's TYPE/NAME, not a path.)
      if (REPO_ROOTS.test(word) && (word.endsWith("/") || /\.\w+$/.test(word)) && !ctx.exists(word)) {
        problems.push(`${c.at}: ${word}: no such file or folder`);
      }
      if (w[i] === "apply" && w[i + 1] === "-k" && w[i + 2] !== undefined) {
        for (const p of ctx.kustomization(w[i + 2] ?? "")) problems.push(`${c.at}: kubectl apply -k ${w[i + 2]}: ${p}`);
      }
    }
  }
  return problems;
}

/** What kustomize's default load restrictor would refuse in `dir`, or a missing kustomization. */
function kustomizationProblems(dir: string): string[] {
  const abs = resolve(ROOT, dir);
  const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map((f) => join(abs, f)).find(existsSync);
  if (file === undefined) return ["no kustomization.yaml"];
  const k = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ["resources", "crds", "components", "patches", "patchesStrategicMerge", "configurations"]) {
    const list = k[field];
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const ref = typeof entry === "string" ? entry : (entry as { path?: unknown })?.path;
      if (typeof ref !== "string" || /^[a-z]+:\/\//.test(ref)) continue;
      const target = resolve(abs, ref);
      const inside = relative(abs, target);
      // kustomize lets a kustomization refer to another kustomization's folder (a base), not to loose files outside.
      const isBase = existsSync(target) && statSync(target).isDirectory();
      if ((inside.startsWith("..") || isAbsolute(inside)) && !isBase) {
        problems.push(`${field} ${ref} is outside ${dir} (kustomize's load restrictor refuses it)`);
      } else if (!existsSync(target)) {
        problems.push(`${field} ${ref} does not exist`);
      }
    }
  }
  return problems;
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** Relative links of a Markdown file whose target or #anchor does not resolve. */
function linkProblems(markdown: string, file: string): string[] {
  const problems: string[] = [];
  const anchorsOf = (md: string) =>
    new Set(
      md
        .split("\n")
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => slug(l.replace(/^#+ /, ""))),
    );
  markdown.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] ?? "";
      if (/^[a-z]+:/.test(target)) continue;
      const [path = "", anchor] = target.split("#");
      const abs = path === "" ? join(ROOT, file) : resolve(ROOT, dirname(file), path);
      if (!existsSync(abs)) {
        problems.push(`${file}:${i + 1}: link ${target}: no such file`);
        continue;
      }
      if (anchor && abs.endsWith(".md") && !anchorsOf(readFileSync(abs, "utf8")).has(anchor)) {
        problems.push(`${file}:${i + 1}: link ${target}: no such heading`);
      }
    }
  });
  return problems;
}

describe("docs shell commands", () => {
  const files = markdownFiles();
  const texts = new Map(files.map((f) => [f, readFileSync(join(ROOT, f), "utf8")]));
  const cmds = files.flatMap((f) => commandLines(texts.get(f) ?? "", f));
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;

  const helpCache = new Map<string, Cli | undefined>();
  /** --help of an npm script that runs a node program which has one (not the demo, tests, tools). */
  const npmHelp = (name: string, sub?: string): Cli | undefined => {
    const key = sub === undefined ? name : `${name} ${sub}`;
    if (helpCache.has(key)) return helpCache.get(key);
    const cmd = scripts[name] ?? "";
    let cli: Cli | undefined;
    if (name === "demo") {
      // The demo has no --help (it would start): its flags are the ones demo.ts looks for.
      const src = readFileSync(join(ROOT, "scripts/demo.ts"), "utf8");
      cli = { commands: new Set(), flags: new Set([...src.matchAll(/"(--[\w-]+)"/g)].map((m) => m[1] ?? "")) };
    } else if (/^node\s/.test(cmd)) {
      const argv = cmd.split(/\s+/).slice(1);
      // Some print their usage and exit 2 for --help: what they print is what counts.
      const r = spawnSync(process.execPath, [...argv, ...(sub === undefined ? [] : [sub]), "--help"], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
      });
      cli = parseHelp(`${r.stdout}${r.stderr}`);
    }
    helpCache.set(key, cli);
    return cli;
  };
  const PLUGIN = ["--conditions=minitask-source", join(ROOT, "packages/taskrunner/src/cli/kubectl-task.ts")];
  const pluginHelp = (args: string[]) =>
    parseHelp(
      execFileSync(process.execPath, [...PLUGIN, ...args, "--help"], { encoding: "utf8", env: { ...process.env } }),
    );
  const subCache = new Map<string, Cli>();
  const ctx = () => ({
    scripts,
    npmHelp,
    // The hidden __complete (kubectl_complete-task's way in) is a command too.
    plugin: (({ commands, flags }) => ({ commands: new Set([...commands, "__complete"]), flags }))(pluginHelp([])),
    pluginSub: (sub: string) => {
      const hit = subCache.get(sub) ?? pluginHelp([sub]);
      subCache.set(sub, hit);
      return hit;
    },
    exists: (p: string) => existsSync(join(ROOT, p)),
    kustomization: kustomizationProblems,
  });

  it("the checks find what is wrong: unknown scripts, commands, flags, paths, load-restricted kustomizations, links", () => {
    const md = [
      "Run `npm run nope` and `npm run cluster -- launch`, then `npm run codegen -- --frobnicate`.",
      "```sh",
      "kubectl task begin hello",
      "kubectl task start hello --colour red   # comment: `npm run ignored`",
      "kubectl apply -f crds/missing.yaml && kubectl apply -k examples/",
      "npm run cluster -- up\\|down",
      "```",
      "See [the guide](docs/nope.md) and [deploying](docs/operations.md#no-such-heading).",
    ].join("\n");
    const found = commandProblems(commandLines(md, "x.md"), ctx());
    expect(found).toEqual([
      "x.md:1: npm run nope: no such script in package.json",
      "x.md:1: npm run cluster -- launch: no such command",
      "x.md:1: npm run codegen -- --frobnicate: no such flag",
      "x.md:3: kubectl task begin: no such command",
      "x.md:4: kubectl task start --colour: no such flag",
      "x.md:5: crds/missing.yaml: no such file or folder",
      "x.md:5: kubectl apply -k examples/: no kustomization.yaml",
    ]);
    expect(linkProblems(md, "x.md")).toEqual([
      "x.md:8: link docs/nope.md: no such file",
      "x.md:8: link docs/operations.md#no-such-heading: no such heading",
    ]);
    // A kustomization reaching outside its folder, as deploy/ once did with ../crds.
    mkdirSync(join(ROOT, ".cache"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, ".cache", "kustomize-"));
    try {
      writeFileSync(join(dir, "kustomization.yaml"), "resources:\n  - ns.yaml\n  - ../../crds/task.yaml\n");
      writeFileSync(join(dir, "ns.yaml"), "kind: Namespace\n");
      expect(kustomizationProblems(relative(ROOT, dir))).toEqual([
        `resources ../../crds/task.yaml is outside ${relative(ROOT, dir)} (kustomize's load restrictor refuses it)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("README and docs name only npm scripts, subcommands, flags, plugin commands and paths that exist", () => {
    // Enough is looked at for the check to mean something.
    const npmRuns = cmds.filter((c) => c.words.includes("npm") && c.words.includes("run"));
    const pluginRuns = cmds.filter((c) => c.words.join(" ").includes("kubectl task "));
    expect(npmRuns.length).toBeGreaterThan(30);
    expect(pluginRuns.length).toBeGreaterThan(10);
    expect(commandProblems(cmds, ctx())).toEqual([]);
  }, 120_000);

  it("README and docs deploy the same way: crds/ first, then kubectl apply -k deploy/", () => {
    for (const f of ["README.md", "docs/operations.md"]) {
      const text = texts.get(f) ?? "";
      const crds = text.indexOf("kubectl apply -f crds/");
      const deploy = text.indexOf("kubectl apply -k deploy/");
      expect({ f, crds: crds >= 0, deploy: deploy >= 0, order: crds < deploy }).toEqual({
        f,
        crds: true,
        deploy: true,
        order: true,
      });
    }
    expect(kustomizationProblems("deploy")).toEqual([]);
    expect(kustomizationProblems("deploy-local-node")).toEqual([]);
  });

  it("every relative link and #anchor in README and docs resolves", () => {
    expect(files.flatMap((f) => linkProblems(texts.get(f) ?? "", f))).toEqual([]);
  });
});

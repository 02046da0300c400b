// Compiling generated code as a project outside this repository would: a standard tsconfig (module and
// moduleResolution NodeNext, emit on, strict, isolatedDeclarations), no custom conditions, no
// `allowImportingTsExtensions`. The runtime packages the generated code imports are seen as an installed
// consumer sees them, through their declaration files: those are emitted once per test run from the
// packages' sources into a scratch folder (a clean clone has no `dist/`).
import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";
import type { GeneratedFile } from "../../src/generate.ts";
import { repoRoot, tscBin } from "./helpers.ts";

const run = promisify(execFile);

/** Scratch space of the codegen tests (ignored by git). */
export const scratchDir = join(repoRoot, "codegen/.out");

/** The packages generated code imports (and what they import), as `name → folder`. */
const RUNTIME_PACKAGES: Record<string, string> = {
  "@minitask/workqueue": "packages/workqueue",
  "@minitask/client": "packages/client",
  "@minitask/informers": "packages/informers",
};

export interface TscResult {
  readonly code: number;
  readonly output: string;
  /** `file(line,col): error TSnnnn: …` lines, with paths relative to the project. */
  readonly errors: readonly string[];
}

async function tsc(args: readonly string[], cwd: string): Promise<TscResult> {
  const r = await run(tscBin, [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }).then(
    (x) => ({ code: 0, output: x.stdout + x.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === "number" ? e.code : 1,
      output: `${e.stdout ?? ""}${e.stderr ?? ""}`,
    }),
  );
  const errors = r.output.split("\n").filter((l) => / error TS\d+:/.test(l));
  return { ...r, errors };
}

let declarations: Promise<string> | undefined;

/**
 * Emits the declaration files of the runtime packages (once per process) into `codegen/.out/declarations`;
 * resolves with that folder, which holds `<package folder>/src/index.d.ts` for each package.
 */
export function runtimeDeclarations(): Promise<string> {
  declarations ??= (async () => {
    const out = join(scratchDir, "declarations");
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const config = {
      extends: relative(out, join(repoRoot, "tsconfig.base.json")),
      compilerOptions: {
        rootDir: relative(out, repoRoot),
        outDir: ".",
        declaration: true,
        emitDeclarationOnly: true,
        sourceMap: false,
        composite: false,
        noEmit: false,
      },
      include: Object.values(RUNTIME_PACKAGES).map((p) => relative(out, join(repoRoot, p, "src"))),
    };
    await writeFile(join(out, "tsconfig.json"), `${JSON.stringify(config, null, 2)}\n`);
    const r = await tsc(["-p", "tsconfig.json"], out);
    if (r.code !== 0) throw new Error(`emitting the runtime packages' declarations failed:\n${r.output}`);
    return out;
  })();
  return declarations;
}

export interface ConsumerOptions {
  /** Also check `isolatedDeclarations` (default true). */
  readonly isolatedDeclarations?: boolean;
  /** Extra files of the project (e.g. code using the generated types), path → text. */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Writes `files` into `dir/src/generated` of a fresh consumer project and compiles it with emit; resolves
 * with tsc's result.
 */
export async function compileAsConsumer(
  dir: string,
  files: readonly GeneratedFile[],
  options: ConsumerOptions = {},
): Promise<TscResult> {
  const decls = await runtimeDeclarations();
  await rm(dir, { recursive: true, force: true });
  for (const f of files) {
    const target = join(dir, "src/generated", f.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, f.content);
  }
  for (const [path, text] of Object.entries(options.extra ?? {})) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const paths = Object.fromEntries(
    Object.entries(RUNTIME_PACKAGES).map(([name, folder]) => [
      name,
      [relative(dir, join(decls, folder, "src/index.d.ts"))],
    ]),
  );
  const config = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2023", "ESNext.Disposable"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      declaration: true,
      isolatedDeclarations: options.isolatedDeclarations ?? true,
      outDir: "dist",
      rootDir: "src",
      types: ["node"],
      typeRoots: [relative(dir, join(repoRoot, "node_modules/@types"))],
      skipLibCheck: true,
      paths,
    },
    include: ["src"],
  };
  await writeFile(join(dir, "package.json"), `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`);
  await writeFile(join(dir, "tsconfig.json"), `${JSON.stringify(config, null, 2)}\n`);
  return tsc(["-p", "tsconfig.json"], dir);
}

/** Error counts by code (`TS5097: 36`), most frequent first. */
export function errorCodes(errors: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const e of errors) {
    const code = / error (TS\d+):/.exec(e)?.[1] ?? "?";
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}: ${n}`);
}

// A TypeDoc plugin for minitask's API reference: names each entry point's module after its package
// (`@minitask/client` rather than `packages/client/src`) and shows the package README, when it has one,
// on the module's page — what TypeDoc's "packages" strategy does, without running one TypeScript program
// per package.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Converter, MinimalSourceFile, ReflectionKind } from "typedoc";

/** The nearest package.json above `file`: its folder and name. */
function packageOf(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) return { dir, name: JSON.parse(readFileSync(manifest, "utf8")).name };
  }
  return undefined;
}

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(
    Converter.EVENT_RESOLVE_BEGIN,
    (context) => {
      for (const mod of context.project.children ?? []) {
        if (!mod.kindOf(ReflectionKind.Module)) continue;
        const entry = mod.sources?.[0]?.fullFileName;
        const pkg = entry ? packageOf(entry) : undefined;
        if (!pkg?.name) continue;
        mod.name = pkg.name;
        const readme = join(pkg.dir, "README.md");
        if (existsSync(readme)) {
          const file = new MinimalSourceFile(readFileSync(readme, "utf8"), readme);
          mod.readme = app.converter.parseRawComment(file, context.project.files).content;
        }
      }
    },
    // Before the source plugin rewrites `fileName`s and before links are resolved.
    100,
  );
}

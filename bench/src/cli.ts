// `npm run bench -- NAME [--json]` runs bench/src/NAME.ts. Each benchmark module exports
// `run(args: string[]): Promise<void>`; with `--json` it prints exactly one JSON object on stdout
// and sends everything else to stderr.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "cli.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join("|")}> [--json]\n`);
  process.exit(2);
}
const mod = (await import(new URL(`./${name}.ts`, import.meta.url).href)) as {
  run: (args: string[]) => Promise<void>;
};
await mod.run(rest);

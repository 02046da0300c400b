// Global setup of the `faults` project: collects the summary rows every scenario file appends, and
// prints the whole table (and writes it to RELIABILITY_SUMMARY, when set) at the end of the run.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { formatTable, type ScenarioRow } from "./report.ts";

let file = "";
let startedAt = 0;

export function setup(): void {
  file = join(mkdtempSync(join(tmpdir(), "minitask-reliability-results-")), "rows.jsonl");
  writeFileSync(file, "");
  process.env.MINITASK_RELIABILITY_RESULTS = file;
  startedAt = Date.now();
}

export function teardown(): void {
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ScenarioRow)
    .sort((a, b) => a.scenario.localeCompare(b.scenario, "en", { numeric: true }));
  const minutes = (Date.now() - startedAt) / 60_000;
  const cpu = cpus();
  const text = [
    `Reliability suite, ${new Date().toISOString()} — ${cpu.length} × ${cpu[0]?.model.trim() ?? "cpu"}, ` +
      `${process.env.RELIABILITY_RUNS ?? "200"} TaskRuns per scenario, ${minutes.toFixed(1)} min in all`,
    "",
    formatTable(rows),
    "",
  ].join("\n");
  process.stdout.write(`\n${text}\n`);
  if (process.env.RELIABILITY_SUMMARY) writeFileSync(process.env.RELIABILITY_SUMMARY, text);
}

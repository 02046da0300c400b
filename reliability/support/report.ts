// The summary table of the suite: one row per scenario, appended by each scenario file to the results
// file of the run, printed as a whole by the global setup at the end. (No package imports: the global
// setup loads this in vitest's main process.)
import { appendFileSync } from "node:fs";

export interface ScenarioRow {
  scenario: string;
  taskRuns: number;
  terminal: number;
  /** Runs that ended as the scenario expects (Succeeded, or the expected Failed reason). */
  expected: number;
  /** Pods created more than once for one run, or for a run that should have none. */
  duplicates: number;
  /** Runs without the pod they should have. */
  missingPods: number;
  regressions: number;
  cacheDiffs: number;
  /** Free-form recovery figure ("restart→watch 1.2 s", "takeover max 4.6 s"). */
  recovery: string;
  durationS: number;
  problems: string[];
}

/** Appends a row to the results file of this test run (the global setup prints the table at the end). */
export function recordRow(row: ScenarioRow): void {
  const file = process.env.MINITASK_RELIABILITY_RESULTS;
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
  process.stderr.write(`\n${formatTable([row])}\n`);
}

/** Counts are shown as "–" for scenarios without TaskRuns (the decoder fuzzing). */
const count = (f: (r: ScenarioRow) => number) => (r: ScenarioRow) => (r.taskRuns === 0 ? "–" : String(f(r)));

const COLUMNS: [string, (r: ScenarioRow) => string][] = [
  ["Scenario", (r) => r.scenario],
  ["Result", (r) => (r.problems.length ? "FAIL" : "ok")],
  ["TaskRuns", count((r) => r.taskRuns)],
  ["Terminal", count((r) => r.terminal)],
  ["As expected", count((r) => r.expected)],
  ["Duplicate pods", count((r) => r.duplicates)],
  ["Missing pods", count((r) => r.missingPods)],
  ["Phase regressions", count((r) => r.regressions)],
  ["Cache diffs", count((r) => r.cacheDiffs)],
  ["Recovery / notes", (r) => r.recovery || "–"],
  ["Duration", (r) => `${r.durationS.toFixed(0)} s`],
];

/** A Markdown table of rows. */
export function formatTable(rows: readonly ScenarioRow[]): string {
  const cells = [COLUMNS.map(([h]) => h), ...rows.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...body.map(line)].join("\n");
}

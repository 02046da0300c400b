// Formatting: tables (kubectl-style, three spaces between columns), ages, durations, JSON/YAML.
import { stringify } from "yaml";
import { visibleLength } from "./term.ts";

/** Pads the cells of each column to the widest one; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? ""))));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visibleLength(cell))))
        .join("   ")
        .trimEnd(),
    )
    .join("\n");
}

/** A duration the way kubectl prints ages: 45s, 3m12s, 5m, 2h30m, 3d4h, 12d, 2y. */
export function shortDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "<unknown>";
  const secs = Math.max(0, Math.floor(ms / 1000));
  if (secs < 60) return `${secs}s`;
  const mins = Math.floor(secs / 60);
  if (mins < 10) return secs % 60 === 0 ? `${mins}m` : `${mins}m${secs % 60}s`;
  if (mins < 60) return `${mins}m`;
  const hours = Math.floor(mins / 60);
  if (hours < 8) return mins % 60 === 0 ? `${hours}h` : `${hours}h${mins % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

/**
 * A run's duration: <1s, 12s, 3m4s, 1h2m (more precise than ages: runs are usually short). API
 * timestamps have whole seconds, so nothing finer is shown.
 */
export function runDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return "<1s";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined. */
export function parseTime(t: string | undefined | null): number | undefined {
  if (t === undefined || t === null || t === "") return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `3m ago`, or `-` when unknown. */
export function ago(t: string | undefined, now: number): string {
  const ms = parseTime(t);
  return ms === undefined ? "-" : `${shortDuration(now - ms)} ago`;
}

/** Age column (`3m`), or `<unknown>`. */
export function age(t: string | null | undefined, now: number): string {
  const ms = parseTime(t);
  return ms === undefined ? "<unknown>" : shortDuration(now - ms);
}

/** Cuts a string to `max` characters with an ellipsis; newlines become spaces. */
export function truncate(s: string, max: number): string {
  const one = s.replace(/\s*\n\s*/g, " ");
  return one.length <= max ? one : `${one.slice(0, Math.max(0, max - 1))}…`;
}

interface WithMeta {
  metadata?: { managedFields?: unknown } | undefined;
}

/** A copy without `metadata.managedFields` (kubectl hides them unless asked). */
export function withoutManagedFields<T extends object>(obj: T): T {
  const meta = (obj as WithMeta).metadata;
  if (meta === undefined || meta.managedFields === undefined) return obj;
  const { managedFields: _, ...rest } = meta;
  return { ...obj, metadata: rest };
}

export type DataFormat = "json" | "yaml";

/** Serialises an object as kubectl does for -o json / -o yaml. */
export function serialise(obj: unknown, format: DataFormat): string {
  if (format === "json") return `${JSON.stringify(obj, null, 4)}\n`;
  return stringify(obj, { lineWidth: 0 });
}

/** The `List` kubectl prints for several objects. */
export function listOf(items: readonly object[]): object {
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items: items.map(withoutManagedFields) };
}

// Go-style durations ("1h30m", "90s", "1.5h", "250ms", "0"), as `spec.timeout` is written.
const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses a Go duration into milliseconds; throws a one-line error for anything else. */
export function parseDuration(text: string): number {
  // Typed as a string, but read from objects a relaxed schema may let through (a number, say).
  if (typeof text !== "string") {
    throw new Error(
      `invalid duration ${JSON.stringify(text)} (expected a string such as "90s", "10m", "1h30m", or "0" for none)`,
    );
  }
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null = re.exec(s);
  while (m !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    pos = re.lastIndex;
    m = re.exec(s);
  }
  if (pos === 0 || pos !== s.length) {
    throw new Error(`invalid duration "${text}" (expected e.g. "90s", "10m", "1h30m", or "0" for none)`);
  }
  return total;
}

/** Formats milliseconds the short way people read them: 850ms, 12s, 3m4s, 1h2m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
}

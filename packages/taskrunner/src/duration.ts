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

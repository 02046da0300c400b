// Step logs through the pod log API (`pods/log`, one container at a time), line by line with an optional
// `[step]` prefix.
import type { Api } from "./api.ts";
import type { Style, Styles } from "./term.ts";

/** Splits decoded text into lines; keeps the unfinished tail until more arrives (or the end). */
export class LinePrefixer {
  readonly #write: (text: string) => void;
  readonly #prefix: string;
  readonly #decoder = new TextDecoder();
  #tail = "";

  constructor(prefix: string, write: (text: string) => void) {
    this.#prefix = prefix;
    this.#write = write;
  }

  push(chunk: Uint8Array): void {
    const text = this.#tail + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#tail = lines.pop() ?? "";
    if (lines.length > 0) this.#write(lines.map((l) => `${this.#prefix}${l}\n`).join(""));
  }

  /** Writes what is left (a last line without a newline). */
  end(): void {
    const rest = this.#tail + this.#decoder.decode();
    this.#tail = "";
    if (rest.length > 0) this.#write(`${this.#prefix}${rest}\n`);
  }
}

const PREFIX_COLORS: readonly (keyof Styles)[] = ["cyan", "magenta", "blue", "yellow", "green"];

/** A stable colour per step index. */
export function stepColor(styles: Styles, index: number): Style {
  return styles[PREFIX_COLORS[index % PREFIX_COLORS.length] ?? "cyan"];
}

export interface StreamLogOptions {
  readonly pod: string;
  readonly container: string;
  readonly follow: boolean;
  /** Each line starts with the kubelet's RFC 3339 timestamp (after the prefix), as `kubectl logs --timestamps`. */
  readonly timestamps?: boolean | undefined;
  /** Prepended to each line (e.g. `[build] `); empty for raw output. */
  readonly prefix: string;
  readonly write: (text: string) => void;
  readonly signal?: AbortSignal | undefined;
}

/** Copies one container's log to `write`; resolves when the stream ends (the container exited, when following). */
export async function streamLog(api: Api, o: StreamLogOptions): Promise<void> {
  const res = await api.client.podLogs(api.namespace, o.pod, {
    container: o.container,
    follow: o.follow,
    ...(o.timestamps ? { timestamps: true } : {}),
    signal: o.signal,
  });
  const lines = new LinePrefixer(o.prefix, o.write);
  try {
    for await (const chunk of res.body) lines.push(chunk);
  } finally {
    lines.end();
    res.close();
  }
}

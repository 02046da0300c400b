// The one logger shape: pino's call order, child bindings, and the two built-in loggers.
import { afterEach, describe, expect, it, vi } from "vitest";
import { consoleLogger, type Logger, silentLogger } from "../src/index.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("consoleLogger", () => {
  it("takes fields first and the message second, or just a message, as pino does", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    consoleLogger.warn({ retryInMs: 800 }, "watch failed");
    consoleLogger.warn("plain");
    expect(warn.mock.calls).toEqual([
      ["informers: watch failed", { retryInMs: 800 }],
      ["informers: plain", ""],
    ]);
  });

  it("adds a child's bindings to every line, the line's fields winning", () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const child = consoleLogger.child({ component: "informers", a: 1 }).child({ b: 2 });
    child.error({ a: 3 }, "boom");
    child.error("bare");
    expect(error.mock.calls).toEqual([
      ["informers: boom", { component: "informers", a: 3, b: 2 }],
      ["informers: bare", { component: "informers", a: 1, b: 2 }],
    ]);
  });

  it("drops debug lines", () => {
    const spies = (["debug", "info", "warn", "error", "log"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    consoleLogger.debug({ x: 1 }, "noise");
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });
});

describe("silentLogger", () => {
  it("writes nothing, and its children are silent too", () => {
    const spies = (["debug", "info", "warn", "error", "log"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    const child: Logger = silentLogger.child({ component: "x" });
    for (const log of [silentLogger, child]) {
      log.debug("a");
      log.info({ b: 1 }, "b");
      log.warn("c");
      log.error({ d: 1 }, "d");
    }
    expect(child).toBe(silentLogger);
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });
});

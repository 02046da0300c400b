import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, releasePorts } from "../src/ports.ts";

const CLAIMS = join(tmpdir(), "minitask-ports");
const owners: string[] = [];
function owner(): string {
  const dir = mkdtempSync(join(tmpdir(), "minitask-ports-test-"));
  owners.push(dir);
  return dir;
}

afterEach(() => {
  for (const o of owners.splice(0)) {
    releasePorts(o);
    rmSync(o, { recursive: true, force: true });
  }
});

describe("freePort", () => {
  it("never hands out a port again while its owner lives, though nothing listens on it", async () => {
    const a = owner();
    const b = owner();
    const ports = [];
    for (let i = 0; i < 100; i++) ports.push(await freePort(i % 2 ? a : b));
    expect(new Set(ports).size).toBe(100);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(32_000);
    }
    expect(readFileSync(join(CLAIMS, String(ports[1])), "utf8")).toBe(a);
    releasePorts(a);
    expect(existsSync(join(CLAIMS, String(ports[1])))).toBe(false);
    expect(existsSync(join(CLAIMS, String(ports[0])))).toBe(true);
  });

  it("claims for this process by default", async () => {
    const p = await freePort();
    expect(readFileSync(join(CLAIMS, String(p)), "utf8")).toBe(String(process.pid));
    releasePorts(String(process.pid));
    expect(existsSync(join(CLAIMS, String(p)))).toBe(false);
  });
});

// Free loopback ports for components, and claims that keep a port ours while its component is down.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestEnvError } from "./build.ts";

/**
 * Ports below the kernel's ephemeral range (32768–60999 here) are never handed out as the source port of
 * an outgoing connection. Components take theirs from this range: a component that is killed and
 * restarted (the fault tests do that to the apiserver) must get its port back, and with a port from the
 * ephemeral range, another process's connection — or a client retrying against the dead port, which can
 * connect to itself on loopback — may hold it meanwhile, and the restart fails with "address in use".
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;

/**
 * One file per port handed out, naming its owner: a control plane's state folder (the claim holds while
 * the folder exists) or a process id (while it lives). Without claims, a second control plane or a test's
 * dashboard starting while a fault test has the apiserver down would see its port free and take it.
 */
const CLAIMS = join(tmpdir(), "minitask-ports");

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

function ownerAlive(owner: string): boolean {
  if (/^\d+$/.test(owner)) {
    try {
      process.kill(Number(owner), 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  return existsSync(owner);
}

/** Claims `port` for `owner`; false when another live owner holds it. A stale claim is taken over. */
function claim(port: number, owner: string): boolean {
  const file = join(CLAIMS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, owner);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let holder = "";
    try {
      holder = readFileSync(file, "utf8");
    } catch {
      continue; // released meanwhile
    }
    // An empty file is a claim being written right now.
    if (holder === "" || ownerAlive(holder)) return false;
    rmSync(file, { force: true });
  }
  return false;
}

/**
 * A port free on 127.0.0.1 now, outside the ephemeral range (see `PORT_RANGE`), claimed for `owner` — a
 * control plane's state folder; by default this process — so that no other caller of ours is given it
 * while its component is stopped. `releasePorts(owner)` ends the claims early.
 */
export async function freePort(owner: string = String(process.pid)): Promise<number> {
  mkdirSync(CLAIMS, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (!claim(port, owner)) continue;
    if (await canListen(port)) return port;
    rmSync(join(CLAIMS, String(port)), { force: true });
  }
  throw new TestEnvError(`no free port on 127.0.0.1 between ${PORT_RANGE.from} and ${PORT_RANGE.to}`);
}

/** Drops every port claim `owner` holds. */
export function releasePorts(owner: string): void {
  let files: string[];
  try {
    files = readdirSync(CLAIMS);
  } catch {
    return;
  }
  for (const f of files) {
    try {
      if (readFileSync(join(CLAIMS, f), "utf8") === owner) rmSync(join(CLAIMS, f), { force: true });
    } catch {
      // released meanwhile
    }
  }
}

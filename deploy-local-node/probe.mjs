// Exec probe of the local-node overlay: `node /probe/probe.mjs /readyz` exits 0 when the controller in this
// container answers 200 on that path. Both replicas share the node's network (hostNetwork), so each binds
// its probe and metrics servers to a free loopback port; this finds them: the listening TCP sockets on
// 127.0.0.1 whose inodes are among the open files of PID 1 (the controller: exec probes run in the
// container's PID namespace, as the same user).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { get } from "node:http";

const path = process.argv[2] || "/readyz";
const inodes = new Set();
for (const fd of readdirSync("/proc/1/fd")) {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/1/fd/${fd}`));
    if (m) inodes.add(m[1]);
  } catch {
    // closed meanwhile
  }
}
const ports = [];
for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
  const f = line.trim().split(/\s+/);
  if (f.length > 9 && f[3] === "0A" && f[1].startsWith("0100007F:") && inodes.has(f[9])) {
    ports.push(Number.parseInt(f[1].slice(9), 16));
  }
}
if (ports.length === 0) {
  console.error("probe: the controller listens on no loopback port yet");
  process.exit(1);
}
let left = ports.length;
const notOk = (why) => {
  if (--left > 0) return;
  console.error(`probe: ${path} is not ok on port(s) ${ports.join(", ")}: ${why}`);
  process.exit(1);
};
for (const port of ports) {
  const req = get({ host: "127.0.0.1", port, path, timeout: 5000 }, (res) => {
    res.resume();
    if (res.statusCode === 200) process.exit(0);
    notOk(`HTTP ${res.statusCode} on ${port}`);
  });
  req.on("timeout", () => req.destroy(new Error(`no answer on ${port} within 5 s`)));
  req.on("error", (err) => notOk(err.message));
}

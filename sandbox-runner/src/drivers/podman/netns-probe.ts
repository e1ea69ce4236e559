/**
 * Probes the target's ports from inside its network namespace: `nsenter -t PID -n` running this
 * runner's own Node binary with the fixed script below (ports are its only input; no user text runs
 * on the host). The target has no other network, so this is the only way in besides the prober.
 */
import { run } from "./exec.js";

export interface PortProbe {
  port: number;
  answered: boolean;
  detail: string;
}

// HTTP GET / first; a port that accepts but does not speak HTTP still counts as answering via TCP.
const SCRIPT = `
const net = require("node:net"), http = require("node:http");
const ports = JSON.parse(process.argv[1]);
const tcp = (port) => new Promise((res) => {
  const s = net.connect({ host: "127.0.0.1", port, timeout: 1500 });
  s.once("connect", () => { s.destroy(); res({ port, answered: true, detail: "TCP connect ok" }); });
  s.once("timeout", () => { s.destroy(); res({ port, answered: false, detail: "TCP connect timed out" }); });
  s.once("error", (e) => res({ port, answered: false, detail: "TCP " + e.code }));
});
const get = (port) => new Promise((res) => {
  const req = http.get({ host: "127.0.0.1", port, path: "/", timeout: 3000 }, (r) => {
    r.resume(); res({ port, answered: true, detail: "HTTP " + r.statusCode });
  });
  req.once("timeout", () => { req.destroy(new Error("timeout")); });
  req.once("error", () => tcp(port).then((t) => res(t.answered ? { port, answered: true, detail: "TCP connect ok (not HTTP)" } : t)));
});
Promise.all(ports.map(get)).then((r) => process.stdout.write(JSON.stringify(r)));
`;

export async function probePorts(pid: number, ports: number[], signal?: AbortSignal): Promise<PortProbe[]> {
  if (ports.length === 0) return [];
  const r = await run("nsenter", ["-t", String(pid), "-n", "--", process.execPath, "-e", SCRIPT, JSON.stringify(ports)], {
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
  if (r.code !== 0) {
    return ports.map((port) => ({ port, answered: false, detail: `probe failed: ${r.stderr.trim().slice(0, 200) || r.code}` }));
  }
  return JSON.parse(r.stdout) as PortProbe[];
}

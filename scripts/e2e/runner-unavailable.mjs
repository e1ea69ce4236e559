// Fault case (issue #15): the runner answers 503 for 30 s, then recovers. No job may be lost, none
// may run twice, and once the runner answers, the backlog drains at its capacity.
//
// Its own stack: the Worker (`scripts/start.mjs` without a runner) whose RUNNER_URL is a proxy on
// PROXY_PORT, which answers 503 ("at capacity", Retry-After 5) for 30 s and then forwards to the real
// runner on RUNNER_PORT (podman, the offline test image).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checks } from "./lib.mjs";
import { devVars, freePort, newOrganization, startRealRunner, startWorkerOnly, submitShortJobs, waitHealthy } from "../lib/local-stack.mjs";

const JOBS = 20;
const SLOTS = 2;
const [PORT, PROXY_PORT, RUNNER_PORT] = [await freePort(), await freePort(), await freePort()];
const OUTAGE_MS = 30_000;
const base = `http://127.0.0.1:${PORT}`;
const vars = devVars();
const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const { check, done } = checks();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

spawnSync("bash", ["sandbox-runner/test-images/build.sh"], { stdio: ["ignore", "ignore", "inherit"] });
const digest = readFileSync(`${cache}/target.digest`, "utf8").trim();

// The proxy: 503 until `outageEnds`, then a transparent pass-through.
let outageEnds = Infinity;
let refused = 0;
const proxy = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (Date.now() < outageEnds) {
      refused++;
      res.writeHead(503, { "Content-Type": "application/json", "Retry-After": "5" }).end(JSON.stringify({ error: "at_capacity", message: "all sandbox slots are busy" }));
      return;
    }
    const up = request({ host: "127.0.0.1", port: RUNNER_PORT, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.writeHead(502).end());
    up.end(Buffer.concat(chunks));
  });
});
await new Promise((r) => proxy.listen(PROXY_PORT, "127.0.0.1", r));

const state = mkdtempSync(join(tmpdir(), "vexxy-e2e-unavailable-"));
const stack = startWorkerOnly({ port: PORT, runnerPort: PROXY_PORT, stateDir: state });
const runner = startRealRunner(vars, { port: RUNNER_PORT, workerUrl: base, slots: SLOTS, id: "e2e-unavailable" });
process.on("exit", () => {
  for (const p of [runner, stack]) {
    try {
      process.kill(-p.pid, "SIGTERM");
    } catch {}
  }
  proxy.close();
  rmSync(state, { recursive: true, force: true });
});
check("the Worker starts", await waitHealthy(base, 120_000));

const token = await newOrganization(base, vars, "enterprise", { reason: "e2e runner unavailable" });
const api = async (method, path, body) => {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: await res.json().catch(() => null) };
};
outageEnds = Date.now() + OUTAGE_MS;
const ids = await submitShortJobs(base, token, digest, JOBS).catch(() => []);
check(`${JOBS} jobs submitted while the runner answers 503`, ids.length === JOBS);
while (Date.now() < outageEnds) await sleep(500);
const t0 = Date.now();
console.log(`the runner refused ${refused} dispatches during its 30 s outage; now it answers`);

let jobs = [];
while (Date.now() - t0 < 10 * 60_000) {
  jobs = (await api("GET", "/api/v1/analysis?limit=100")).json?.jobs ?? [];
  if (ids.every((id) => ["complete", "failed", "cancelled"].includes(jobs.find((j) => j.job_id === id)?.status))) break;
  await sleep(1000);
}
const elapsed = (Date.now() - t0) / 1000;
const mine = ids.map((id) => jobs.find((j) => j.job_id === id));
check("no job lost: every one completed", mine.every((j) => j?.status === "complete"), JSON.stringify(mine.map((j) => j?.status)));

// A job is complete for the Worker once its callback lands; the runner counts it when the job has also
// removed its sandbox (which overlaps the callback), so wait until the runner is idle before counting.
for (let i = 0; i < 60; i++) {
  const health = await fetch(`http://127.0.0.1:${RUNNER_PORT}/healthz`).then((r) => r.json(), () => null);
  if (health && health.running === 0) break;
  await sleep(250);
}
const metrics = await fetch(`http://127.0.0.1:${RUNNER_PORT}/metrics`).then((r) => r.text());
const completedRuns = Number(/^vexxy_runner_jobs_total\{state="completed"\} (\S+)$/m.exec(metrics)?.[1] ?? NaN);
check(`none ran twice: the runner ran exactly ${JOBS} jobs`, completedRuns === JOBS, String(completedRuns));
const phaseSeconds = [...metrics.matchAll(/^vexxy_runner_phase_duration_seconds_sum\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
const ideal = (JOBS / SLOTS) * (phaseSeconds / JOBS);
console.log(`after the outage: all done in ${elapsed.toFixed(1)} s; ideal ${ideal.toFixed(1)} s (${JOBS} ÷ ${SLOTS} × mean job ${(phaseSeconds / JOBS).toFixed(2)} s by the runner's clock): ${(elapsed / ideal).toFixed(2)}×`);
// The first retry after the outage may come up to 15 s (the longest backoff) after it ends.
check("then the backlog drains at the runner's capacity (within 1.5× the ideal, plus one 15 s retry)", elapsed <= 1.5 * ideal + 15, `${elapsed.toFixed(1)} s`);
done("runner unavailable");

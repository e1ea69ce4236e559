// Backlog drain (`npm run bench`; issue #15): BENCH_DRAIN_JOBS short jobs (default 100) are queued
// while the sandbox-runner is down; then the runner starts, and the bench times how long until every
// job is terminal. Compared with the ideal for that runner: jobs ÷ slots × the median job's own run
// time (started_at → completed_at, measured in the same run). Target: at most 1.5×.
//
// The real stack: the Worker under `wrangler dev` (fresh state) and the real runner with podman and
// the offline test image (sandbox-runner/test-images/build.sh). Prints its figures; asserts nothing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { devVars, newOrganization, startRealRunner, startWorkerOnly, submitShortJobs, waitHealthy } from "../lib/local-stack.mjs";

const JOBS = Number(process.env.BENCH_DRAIN_JOBS ?? 100);
const SLOTS = Number(process.env.BENCH_DRAIN_SLOTS ?? 2);
const PORT = 8151;
const RUNNER_PORT = 8152;
const base = `http://127.0.0.1:${PORT}`;
const vars = devVars();
const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

spawnSync("bash", ["sandbox-runner/test-images/build.sh"], { stdio: ["ignore", "ignore", "inherit"] });
const digest = readFileSync(`${cache}/target.digest`, "utf8").trim();

const state = mkdtempSync(join(tmpdir(), "vexxy-bench-drain-"));
const stack = startWorkerOnly({ port: PORT, runnerPort: RUNNER_PORT, stateDir: state });
let runner = null;
const stop = () => {
  for (const p of [runner, stack]) {
    try {
      if (p) process.kill(-p.pid, "SIGTERM");
    } catch {}
  }
  rmSync(state, { recursive: true, force: true });
};
process.on("exit", stop);
process.on("SIGINT", () => process.exit(130));
if (!(await waitHealthy(base, 120_000))) throw new Error("the Worker did not start");

const token = await newOrganization(base, vars, "enterprise", { reason: "backlog drain bench" });
const api = async (method, path, body) => {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: await res.json().catch(() => null) };
};
const ids = await submitShortJobs(base, token, digest, JOBS);
// Give the queue time to try the absent runner (the backlog is now waiting on retries).
await sleep(10_000);

const t0 = Date.now();
runner = startRealRunner(vars, { port: RUNNER_PORT, workerUrl: base, slots: SLOTS, id: "bench-drain" });

const jobs = new Map();
let done = 0;
while (done < JOBS && Date.now() - t0 < 60 * 60_000) {
  let cursor = null;
  do {
    const page = await api("GET", `/api/v1/analysis?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const j of page.json?.jobs ?? []) jobs.set(j.job_id, j);
    cursor = page.json?.next_cursor ?? null;
  } while (cursor);
  done = ids.filter((id) => ["complete", "failed", "cancelled"].includes(jobs.get(id)?.status)).length;
  if (done < JOBS) await sleep(1000);
}
const elapsed = (Date.now() - t0) / 1000;
// The runner's own clock for the work itself: Σ of every phase's duration ÷ jobs (millisecond
// resolution; the API's timestamps are whole seconds).
const metricsText = await fetch(`http://127.0.0.1:${RUNNER_PORT}/metrics`).then((r) => r.text(), () => "");
const phaseSeconds = [...metricsText.matchAll(/^vexxy_runner_phase_duration_seconds_sum\{[^}]*\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
const mine = ids.map((id) => jobs.get(id)).filter(Boolean);
const runTimes = mine
  .filter((j) => j.status === "complete" && j.started_at && j.completed_at)
  .map((j) => (Date.parse(j.completed_at) - Date.parse(j.started_at)) / 1000)
  .sort((a, b) => a - b);
const median = runTimes[Math.floor(runTimes.length / 2)] ?? NaN;
const ideal = (JOBS / SLOTS) * median;
const byStatus = Object.fromEntries(["complete", "failed", "cancelled", "queued", "running", "analyzing"].map((s) => [s, mine.filter((j) => j.status === s).length]));
console.log(`\nBacklog drain — ${JOBS} jobs queued while the runner was down, then a runner with ${SLOTS} slots started; ${cpus().length} cores`);
console.log(`  all terminal after ${elapsed.toFixed(1)} s; statuses ${JSON.stringify(byStatus)}`);
console.log(`  median job run time ${median.toFixed(2)} s (p90 ${runTimes[Math.floor(runTimes.length * 0.9)]?.toFixed(2)} s); ideal ${JOBS} ÷ ${SLOTS} × median = ${ideal.toFixed(1)} s`);
console.log(`  drain ratio ${(elapsed / ideal).toFixed(2)}× the ideal (target ≤ 1.5×)`);
if (phaseSeconds > 0) {
  const meanJob = phaseSeconds / JOBS;
  const idealMean = (JOBS / SLOTS) * meanJob;
  console.log(`  by the runner's clock: mean job ${meanJob.toFixed(2)} s, ideal ${idealMean.toFixed(1)} s, ratio ${(elapsed / idealMean).toFixed(2)}×`);
}
process.exit(0);

// Issue #14's crash test: the Worker is killed (SIGKILL, its whole process group) while a burst of
// submissions is being admitted and delivered, then started again on the same local state. With
// no request after the restart, every job that was answered 201 must reach D1 and the runner, each
// exactly once: the ledger objects' outboxes and alarms are in their durable storage.
//
// Runs its own `wrangler dev` (fresh state on tmpfs) and a runner stand-in that records every job
// it is sent; needs nothing else. Prints what it saw; exits non-zero on any missing or doubled job.
// Local Queues keep their messages in memory, so dispatch messages sent just before the kill are
// lost with the process: the ledger objects' dispatch check (ledger/delivery.ts) queues those jobs
// again on its own timer. A job the runner already had is answered as a duplicate, as the real
// runner answers it, so it runs once.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checks } from "./lib.mjs";
import { devVars, newOrganization, startRunnerStub, waitHealthy } from "../lib/local-stack.mjs";

const PORT = Number(process.env.CRASH_PORT ?? 8301);
const STUB_PORT = PORT + 1;
const base = `http://127.0.0.1:${PORT}`;
const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "vexxy-crash-"));
const vars = devVars();
const { check, done } = checks();

// The runner stand-in: counts how often each job arrived and how often it was accepted to run
// (a repeated job id is answered as a duplicate, as the real runner answers it).
const received = new Map();
const runs = new Map();
const stub = await startRunnerStub(STUB_PORT, (jobs, accepted) => {
  for (const j of jobs) received.set(j.job_id, (received.get(j.job_id) ?? 0) + 1);
  for (const id of accepted) runs.set(id, (runs.get(id) ?? 0) + 1);
});

spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore", env: { ...process.env, CI: "1" } });
function startWorker() {
  return spawn(
    "wrangler",
    ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--persist-to", state, "--env-file", ".dev.vars.example", "--var", `RUNNER_URL:http://127.0.0.1:${STUB_PORT}`, "--log-level", "error", "--show-interactive-dev-session=false"],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "1" }, detached: true },
  );
}
const healthy = () => waitHealthy(base);
let worker = startWorker();
const killWorker = (signal) => {
  try {
    process.kill(-worker.pid, signal); // wrangler and the workerd it started
  } catch {}
};
process.on("exit", () => {
  killWorker("SIGKILL");
  stub.close();
  rmSync(state, { recursive: true, force: true });
});
check("the Worker starts", await healthy());

// Ten organizations on the unmetered tier, so the burst is never refused for credits or quota.
const orgs = [];
for (let i = 0; i < 10; i++) {
  orgs.push(await newOrganization(base, vars, "enterprise", { reason: "crash test", email: (id) => `crash-${id.slice(0, 8)}@example.com` }));
}
check("ten organizations on enterprise", orgs.length === 10);

// The burst: 16 submitters in parallel; the Worker is killed 1.5 s in, mid-flight.
const admitted = new Set();
const body = JSON.stringify({ image_ref: "nginx:1.25", image_digest: `sha256:${"ab".repeat(32)}`, config: { test_timeout: 60, ports: [80] } });
let stop = false;
async function submitter(n) {
  for (let i = 0; !stop; i++) {
    try {
      const res = await fetch(`${base}/api/v1/analysis/submit`, { method: "POST", headers: { Authorization: `Bearer ${orgs[(n + i) % orgs.length]}`, "Content-Type": "application/json" }, body });
      if (res.status === 201) admitted.add((await res.json()).job_id);
    } catch {
      return; // the Worker is gone
    }
  }
}
const burst = Promise.all(Array.from({ length: 16 }, (_, n) => submitter(n)));
await new Promise((r) => setTimeout(r, 1500));
const beforeKill = received.size;
killWorker("SIGKILL");
stop = true;
await burst;
console.log(`killed the Worker mid-burst: ${admitted.size} submissions answered 201, ${beforeKill} jobs had reached the runner`);
check("the burst admitted jobs before the kill", admitted.size > 0);

// Restart on the same state. From here on, no request but /health.
worker = startWorker();
check("the Worker starts again on the same state", await healthy());
const deadline = Date.now() + 60_000;
while (Date.now() < deadline && [...admitted].some((id) => !received.has(id))) await new Promise((r) => setTimeout(r, 250));
const missing = [...admitted].filter((id) => !received.has(id));
const doubled = [...runs].filter(([, n]) => n > 1);
const redelivered = [...received].filter(([, n]) => n > 1).length;
console.log(`after the restart: ${admitted.size - missing.length}/${admitted.size} admitted jobs reached the runner; ${redelivered} were sent more than once (answered as duplicates), ${doubled.length} run twice`);
check("every job answered 201 reached the runner, with no request after the restart", missing.length === 0, `missing ${missing.length}: ${missing.slice(0, 3).join(", ")}`);
check("the runner ran every job exactly once", doubled.length === 0 && [...admitted].every((id) => runs.get(id) === 1), JSON.stringify(doubled.slice(0, 3)));
const d1 = spawnSync("wrangler", ["d1", "execute", "DB", "--local", "--persist-to", state, "--json", "--command", "SELECT id FROM analysis_jobs"], { encoding: "utf8", env: { ...process.env, CI: "1" } });
const rows = (() => {
  try {
    return JSON.parse(d1.stdout)[0].results.map((r) => r.id);
  } catch {
    return null;
  }
})();
check("D1 has every admitted job exactly once", rows !== null && [...admitted].every((id) => rows.filter((r) => r === id).length === 1), rows === null ? d1.stderr.slice(0, 300) : `${rows.length} rows`);
done("crash e2e");

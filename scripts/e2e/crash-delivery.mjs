// The crash test (issues #14, #15): the Worker is killed (SIGKILL, its whole process group) in the
// middle of 100 submissions across 5 organizations, then started again on the same local state.
// With no request after the restart, every job that was answered 201 must reach D1 and the runner,
// each exactly once: the ledger objects' outboxes and alarms are in their durable storage. A client
// whose request got no answer retries it with the same Idempotency-Key: then every job has its 201
// and no job exists without one. The runner stand-in starts each job it accepts and goes silent, so
// every job must end by itself (lease expired: failed, not charged), and for every organization
// the ledger's entries must sum to its balance, its holds to what is held, and D1's history must
// hold exactly the ledger's entries.
//
// Runs its own `wrangler dev` (fresh state on tmpfs) and a runner stand-in that records every job
// it is sent; needs nothing else. Prints what it saw; exits non-zero on any missing or doubled job.
// Local Queues keep their messages in memory, so dispatch messages sent just before the kill are
// lost with the process: the ledger objects' dispatch check (ledger/delivery.ts) queues those jobs
// again on its own timer. A job the runner already had is answered as a duplicate, as the real
// runner answers it, so it runs once.
import { spawn, spawnSync } from "node:child_process";
import { createHash, createHmac, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checks } from "./lib.mjs";
import { devVars, freePort, newOrganization, startRunnerStub, waitHealthy } from "../lib/local-stack.mjs";

const PORT = process.env.CRASH_PORT ? Number(process.env.CRASH_PORT) : await freePort();
const STUB_PORT = await freePort();
const base = `http://127.0.0.1:${PORT}`;
const state = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "vexxy-crash-"));
const vars = devVars();
const LEASE = 30;
const { check, done } = checks();

// The runner stand-in: counts how often each job arrived and how often it was accepted to run
// (a repeated job id is answered as a duplicate, as the real runner answers it).
const received = new Map();
const runs = new Map();
const stub = await startRunnerStub(STUB_PORT, (jobs, accepted) => {
  for (const j of jobs) received.set(j.job_id, (received.get(j.job_id) ?? 0) + 1);
  for (const id of accepted) runs.set(id, (runs.get(id) ?? 0) + 1);
  // Each job it is sent starts (a signed progress report; again for a re-sent one, as a runner that
  // has it running would), then its runner goes silent.
  for (const j of jobs) setTimeout(() => void startedReport(j.job_id).catch(() => undefined), 200);
});

/** A signed progress callback, as the runner sends it (the contract's HMAC scheme). */
async function startedReport(jobId) {
  const path = `/internal/v1/jobs/${jobId}/progress`;
  const body = JSON.stringify({ phase: "pulling_image", progress_percent: 5, sandbox_started_at: new Date().toISOString() });
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomUUID();
  const hash = createHash("sha256").update(body).digest("hex");
  const sig = createHmac("sha256", vars.RUNNER_SECRET).update(["POST", path, ts, nonce, hash].join("\n")).digest("hex");
  await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "x-vexxy-timestamp": ts, "x-vexxy-nonce": nonce, "x-vexxy-content-sha256": hash, "x-vexxy-signature": `v1=${sig}` },
    body,
  });
}

spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { stdio: "ignore", env: { ...process.env, CI: "1" } });
function startWorker() {
  return spawn(
    "wrangler",
    ["dev", "--port", String(PORT), "--ip", "127.0.0.1", "--persist-to", state, "--env-file", ".dev.vars.example", "--var", `RUNNER_URL:http://127.0.0.1:${STUB_PORT}`, "--var", `JOB_LEASE_SECONDS:${LEASE}`, "--log-level", "error", "--show-interactive-dev-session=false"],
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

// Five organizations on a metered tier, so every admission moves credits.
const orgs = [];
for (let i = 0; i < 5; i++) {
  orgs.push(await newOrganization(base, vars, "professional", { reason: "crash test", email: (id) => `crash-${id.slice(0, 8)}@example.com` }));
}
check("five organizations on professional", orgs.length === 5);

// 100 submissions (20 per organization), 16 at a time, each with its own Idempotency-Key; the
// Worker is killed once about 40 have been answered.
const SUBMISSIONS = Array.from({ length: 100 }, (_, i) => ({ token: orgs[i % orgs.length], key: randomUUID() }));
const admitted = new Set();
const answered = new Map(); // key → job id
const body = JSON.stringify({ image_ref: "nginx:1.25", image_digest: `sha256:${"ab".repeat(32)}`, config: { test_timeout: 60, ports: [80] } });
const submit = async ({ token, key }) => {
  const res = await fetch(`${base}/api/v1/analysis/submit`, { method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "Idempotency-Key": key }, body });
  if (res.status !== 201) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  const id = (await res.json()).job_id;
  answered.set(key, id);
  admitted.add(id);
};
let next = 0;
let killed = false;
const unanswered = [];
async function submitter() {
  while (next < SUBMISSIONS.length) {
    const s = SUBMISSIONS[next++];
    if (killed) {
      unanswered.push(s);
      continue;
    }
    try {
      await submit(s);
    } catch {
      unanswered.push(s); // no answer: the client will retry it with the same key
    }
    if (!killed && answered.size >= 40) {
      killed = true;
      killWorker("SIGKILL");
    }
  }
}
await Promise.all(Array.from({ length: 16 }, submitter));
const beforeKill = received.size;
console.log(`killed the Worker mid-burst: ${answered.size} submissions answered 201, ${unanswered.length} without an answer, ${beforeKill} jobs had reached the runner`);
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
// The clients that got no answer retry with the same key: each gets its 201, for a new job or the
// one admitted just before the kill.
for (const s of unanswered) {
  try {
    await submit(s);
  } catch (err) {
    check(`a retried submission is answered`, false, String(err));
  }
}
check("every submission has its 201 after retries", answered.size === SUBMISSIONS.length, `${answered.size}/${SUBMISSIONS.length}`);
const api = async (token, path) => (await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } })).json();
const ops = async (path) => (await fetch(base + path, { headers: { Authorization: `Bearer ${vars.OPERATOR_TOKEN}` } })).json();
const jobsOf = async (token) => {
  const all = [];
  let cursor = null;
  do {
    const page = await api(token, `/api/v1/analysis?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    all.push(...page.jobs);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
};
let all = (await Promise.all(orgs.map(jobsOf))).flat();
check("no job exists without its 201", all.every((j) => admitted.has(j.job_id)) && all.length === admitted.size, `${all.length} jobs, ${admitted.size} answered`);

// Every job ends by itself: its runner went silent, so its lease expires and the organization's
// recovery fails it without charge (no request needed; these reads only watch).
const endBy = Date.now() + (LEASE + 120) * 1000;
while (Date.now() < endBy && all.some((j) => !["complete", "failed", "cancelled"].includes(j.status))) {
  await new Promise((r) => setTimeout(r, 2000));
  all = (await Promise.all(orgs.map(jobsOf))).flat();
}
const open = all.filter((j) => !["complete", "failed", "cancelled"].includes(j.status));
check("every job reached a terminal state by itself", open.length === 0, `${open.length} still ${[...new Set(open.map((j) => j.status))].join("/")}`);

for (const [i, token] of orgs.entries()) {
  const me = await api(token, "/api/v1/billing/subscription");
  const orgId = me.organization_id;
  const account = await ops(`/internal/v1/ops/organizations/${orgId}/account`);
  const entries = await ops(`/internal/v1/ops/organizations/${orgId}/ledger`);
  const sum = (k) => entries.reduce((a, e) => a + e[k], 0);
  const history = [];
  for (let offset = 0; ; offset += 200) {
    const page = await api(token, `/api/v1/billing/events?limit=200&offset=${offset}`);
    history.push(...page);
    if (page.length < 200) break;
  }
  const ids = (list) => list.map((e) => e.id).sort().join(",");
  check(`organization ${i + 1}: Σ entries = balance (${sum("amount")} = ${account.balance}) and Σ held = held (${sum("held_amount")} = ${account.held})`, sum("amount") === account.balance && sum("held_amount") === account.held);
  check(`organization ${i + 1}: nothing charged for jobs whose runner died, nothing left held`, account.held === 0 && entries.every((e) => e.type !== "analysis_completed"), JSON.stringify({ held: account.held }));
  check(`organization ${i + 1}: D1's history is exactly the ledger's ${entries.length} entries`, ids(history) === ids(entries), `${history.length} in D1`);
}
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

// Fault case (issue #15): the sandbox-runner is SIGKILLed while 2 jobs run and 1 waits. With no
// request and no cron: the running jobs fail within the lease + 30 s, uncharged, and their credits
// stop being held; `npm start` starts the runner again, which removes its dead predecessor's
// sandboxes; the waiting job then completes and is charged exactly once.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { api, checks } from "./lib.mjs";

const cache = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const opToken = process.env.OPERATOR_TOKEN;
const runnerPort = process.env.RUNNER_PORT ?? "8002";
const lease = Number(process.env.JOB_LEASE_SECONDS ?? 120);
const { check, done } = checks();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const digest = readFileSync(`${cache}/target.digest`, "utf8").trim();
const email = `e2e-kill-${Date.now()}@example.com`;
const reg = await api("POST", "/api/v1/auth/register", { body: { email, password: "testpass123", name: "E2E", organization_name: "E2E Kill" } });
check("register", reg.status === 201, reg.text);
const orgId = reg.json.organization_id;
const token = (await api("POST", "/api/v1/auth/login", { body: { email, password: "testpass123" } })).json.access_token;
await api("POST", `/internal/v1/ops/organizations/${orgId}/plan`, { headers: { Authorization: `Bearer ${opToken}` }, body: { tier: "starter", reason: "e2e runner-killed" } });
const credits = async () => (await api("GET", "/api/v1/billing/credits", { token })).json;
const before = await credits();

// Three jobs whose test script takes a while; the runner runs two at once.
const submit = (script) =>
  api("POST", "/api/v1/analysis/submit", {
    token,
    body: { image_ref: "localhost/vexxy-test/target:latest", image_digest: digest, config: { test_script: script, test_timeout: 180, ports: [8080] } },
  });
const ids = [];
for (let i = 0; i < 3; i++) {
  const r = await submit(i < 2 ? "sleep 120" : "curl -fsS http://localhost:8080/health");
  check(`submit ${i + 1} → 201`, r.status === 201, r.text);
  ids.push(r.json.job_id);
  await sleep(i < 1 ? 300 : 1500); // the first two reach the runner first
}
const statusOf = async (id) => (await api("GET", `/api/v1/analysis/${id}/status`, { token })).json;
let running = [];
for (let i = 0; i < 120 && running.length < 2; i++) {
  running = [];
  for (const id of ids) if ((await statusOf(id)).status === "running") running.push(id);
  await sleep(1000);
}
check("two jobs are running", running.length === 2, JSON.stringify(running));
const waiting = ids.find((id) => !running.includes(id));
const heldBefore = (await credits()).held_credits;

// SIGKILL the runner process (the one listening on its port).
const killedAt = Date.now();
spawnSync("fuser", ["-k", "-KILL", `${runnerPort}/tcp`], { stdio: "ignore" });
console.log(`killed the runner; lease ${lease} s`);

// The running jobs fail by themselves, uncharged.
let failedAt = null;
for (let i = 0; i < (lease + 90) * 2 && failedAt === null; i++) {
  const states = await Promise.all(running.map(statusOf));
  if (states.every((s) => s.status === "failed")) failedAt = Date.now();
  else await sleep(500);
}
const recovery = failedAt === null ? null : (failedAt - killedAt) / 1000;
console.log(`running jobs failed ${recovery ?? "never"} s after the kill (target: lease ${lease} s + 30 s)`);
check("the running jobs failed with no request or cron", failedAt !== null);
check(`within the lease + 30 s (${recovery} s)`, recovery !== null && recovery <= lease + 30);
for (const id of running) {
  const r = (await api("GET", `/api/v1/analysis/${id}/results`, { token })).json;
  check(`job ${id.slice(0, 8)} was not charged`, r.cost_credits === 0 || r.cost_credits === null, JSON.stringify({ cost: r.cost_credits, error: r.error_message }));
}

// The runner came back (npm start supervises it) and removed its predecessor's sandboxes.
let healthy = false;
for (let i = 0; i < 60 && !healthy; i++) {
  healthy = await fetch(`http://127.0.0.1:${runnerPort}/healthz`).then((r) => r.ok, () => false);
  if (!healthy) await sleep(1000);
}
check("npm start started the runner again", healthy);
const orphans = () =>
  running.flatMap((id) => execFileSync("podman", ["ps", "-a", "--filter", `label=vexxy.job-id=${id}`, "--format", "{{.ID}}"], { encoding: "utf8" }).split("\n").filter(Boolean));
let left = orphans();
for (let i = 0; i < 30 && left.length; i++) {
  await sleep(1000);
  left = orphans();
}
check("the dead runner's sandboxes were removed within 30 s of the restart", left.length === 0, left.join(","));

// The waiting job completes on the new runner and is charged once.
let last;
for (let i = 0; i < 300; i++) {
  last = await statusOf(waiting);
  if (["complete", "failed", "cancelled"].includes(last.status)) break;
  await sleep(1000);
}
check("the waiting job completed after the restart", last?.status === "complete", JSON.stringify(last));
const result = (await api("GET", `/api/v1/analysis/${waiting}/results`, { token })).json;
let after;
for (let i = 0; i < 40; i++) {
  after = await credits();
  if (after.held_credits === 0) break;
  await sleep(250);
}
console.log(`held before the kill ${heldBefore}; credits ${JSON.stringify(before)} → ${JSON.stringify(after)}; cost of the completed job ${result.cost_credits}`);
check("nothing stays held", after.held_credits === 0, JSON.stringify(after));
check("the balance dropped by exactly the completed job's cost", before.credit_balance - after.credit_balance === result.cost_credits && result.cost_credits > 0);
done("runner killed");

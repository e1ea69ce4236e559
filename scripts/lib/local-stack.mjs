// What the benches and the fault cases share about a local stack: a runner stand-in that accepts
// every dispatch, tokens minted as the base application mints them, waiting for /health, and
// starting the Worker alone or the real runner alone.
import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createTcpServer } from "node:net";

/** A port nothing listens on right now (the OS picks it), so steps and benches never clash on fixed ports. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * A runner that accepts every job, and, as the real runner does, answers a job id it already has
 * as a duplicate instead of running it again. `onJobs(jobs, accepted)` sees each dispatch and the
 * ids it accepted. Resolves once listening.
 */
export async function startRunnerStub(port, onJobs) {
  const seen = new Set();
  const stub = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let jobs = [];
      try {
        const parsed = JSON.parse(body);
        jobs = parsed.jobs ?? [parsed];
      } catch {}
      const outcomes = jobs.map((j) => {
        const outcome = seen.has(j.job_id) ? "duplicate" : "accepted";
        seen.add(j.job_id);
        return { job_id: j.job_id, outcome };
      });
      onJobs(jobs, new Set(outcomes.filter((o) => o.outcome === "accepted").map((o) => o.job_id)));
      if (req.url === "/v1/job-batches") {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ results: outcomes, retry_after_seconds: 5 }));
      } else res.writeHead(202, { "Content-Type": "application/json" }).end(JSON.stringify(outcomes[0]?.outcome === "duplicate" ? { accepted: false, duplicate: true } : { accepted: true }));
    });
  });
  await new Promise((r) => stub.listen(port, "127.0.0.1", r));
  return stub;
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** An HS256 token for a new user of `orgId`, as the base application's create_premium_token makes it. */
export function mintToken(secret, orgId, { ttlSeconds = 86400, email = `user-${orgId.slice(0, 8)}@example.com` } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: randomUUID(), org_id: orgId, email, is_admin: true, exp: now + ttlSeconds, iat: now })}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** Waits up to `ms` for a local server's /health; true once it answers. */
export async function waitHealthy(server, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${server}/health`)).ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

/** The development settings (`.dev.vars.example`) the local Worker runs with, as an object. */
export function devVars() {
  return Object.fromEntries(
    readFileSync(".dev.vars.example", "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/**
 * A new organization on `tier`: provisioned by its first token, then moved by the operator route.
 * Returns its token, or throws with the route's answer.
 */
export async function newOrganization(server, vars, tier, { reason, email } = {}) {
  const orgId = randomUUID();
  const token = mintToken(vars.JWT_SECRET_KEY, orgId, { ttlSeconds: 3600, ...(email ? { email: email(orgId) } : {}) });
  await fetch(`${server}/api/v1/billing/subscription`, { headers: { Authorization: `Bearer ${token}` } });
  const r = await fetch(`${server}/internal/v1/ops/organizations/${orgId}/plan`, {
    method: "POST",
    headers: { Authorization: `Bearer ${vars.OPERATOR_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ tier, reason: reason ?? "local stack" }),
  });
  if (!r.ok) throw new Error(`ops plan: ${r.status} ${await r.text()}`);
  return token;
}

/**
 * The Worker alone through `npm start`'s script (fresh state in `stateDir`), its RUNNER_URL pointing
 * at `runnerPort`; a process group the caller stops with process.kill(-pid).
 */
export function startWorkerOnly({ port, runnerPort, stateDir }) {
  return spawn("node", ["scripts/start.mjs"], {
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
    env: { ...process.env, PORT: String(port), RUNNER_PORT: String(runnerPort), VEXXY_STATE_DIR: stateDir, VEXXY_NO_RUNNER: "1" },
  });
}

/** The real sandbox-runner (podman) on `port` with `slots`, calling back `workerUrl`; a process group. */
export function startRealRunner(vars, { port, workerUrl, slots, id }) {
  return spawn("npm", ["-w", "sandbox-runner", "start"], {
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
    env: {
      ...process.env,
      RUNNER_PORT: String(port),
      RUNNER_SECRET: vars.RUNNER_SECRET,
      RUNNER_ALLOWED_REGISTRIES: vars.RUNNER_ALLOWED_REGISTRIES ?? "",
      RUNNER_MAX_CONCURRENT: String(slots),
      RUNNER_ID: id,
      WORKER_URL: workerUrl,
    },
  });
}

/** Submits `n` short analyses of the offline test image (one-request test script); their job ids. */
export async function submitShortJobs(server, token, digest, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${server}/api/v1/analysis/submit`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        image_ref: "localhost/vexxy-test/target:latest",
        image_digest: digest,
        config: { test_script: "curl -fsS http://localhost:8080/health", test_timeout: 60, ports: [8080] },
      }),
    });
    if (res.status !== 201) throw new Error(`submit ${i}: ${res.status} ${await res.text()}`);
    ids.push((await res.json()).job_id);
  }
  return ids;
}

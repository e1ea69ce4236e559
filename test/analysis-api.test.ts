import { afterEach, describe, expect, it } from "vitest";
import { breakDelivery } from "./support/ledger.js";
import { env, exports } from "cloudflare:workers";
import { call, expectEnvelope, json } from "./support/http.js";
import { authSuite } from "./support/auth-suite.js";
import { account, DIGEST, deliver, newOrg, submission } from "./support/orgs.js";
import { completion, progress, runnerCall } from "./support/runner.js";
import { TEST_SECRETS } from "./support/secrets.js";
import { expectSpecShape } from "./support/spec-shapes.js";

const JOB = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
for (const r of [
  { method: "POST", path: "/api/v1/analysis/submit", body: submission() },
  { method: "POST", path: "/api/v1/analysis/quote", body: submission() },
  { method: "GET", path: `/api/v1/analysis/${JOB}/status` },
  { method: "GET", path: `/api/v1/analysis/${JOB}/results` },
  { method: "POST", path: `/api/v1/analysis/${JOB}/cancel` },
  { method: "DELETE", path: `/api/v1/analysis/${JOB}` },
  { method: "GET", path: "/api/v1/analysis" },
  { method: "GET", path: `/api/v1/analysis/${JOB}/events` },
]) {
  authSuite(r);
}

const SPEC_SUBMIT = { job_id: JOB, status: "queued", image_ref: "nginx:1.25", image_digest: "sha256:abc", estimated_duration_minutes: 10, created_at: "2025-11-17T10:00:00Z" };
const SPEC_STATUS = { job_id: JOB, status: "running", progress_percent: 45, current_phase: "Running OWASP ZAP security scan", created_at: "2025-11-17T10:00:00Z", started_at: "2025-11-17T10:00:15Z", estimated_completion: "2025-11-17T10:10:00Z" };
const SPEC_RESULTS = { job_id: JOB, status: "complete", image_ref: "nginx:1.25", image_digest: "sha256:abc", vex_document: {}, execution_profile: {}, reachability_results: {}, security_findings: {}, cost_credits: 18, completed_at: "2025-11-17T10:09:47Z" };

async function submitOnly(token: string, body: unknown = submission()) {
  const res = await call("/api/v1/analysis/submit", { token, body });
  expect(res.status, await res.clone().text()).toBe(201);
  return json(res);
}

/** Submits and waits until its ledger has delivered the job to D1, as before the runner can ever call back for it. */
async function submit(token: string, body: unknown = submission()) {
  const job = await submitOnly(token, body);
  const inD1 = () => env.DB.prepare("SELECT 1 AS x FROM analysis_jobs WHERE id = ?").bind(job.job_id).first();
  for (let i = 0; i < 200 && !(await inD1()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await inD1(), "the ledger delivered the job").not.toBeNull();
  return job;
}

describe("POST /api/v1/analysis/submit", () => {
  it("answers 201 with the spec's body and records the job", async () => {
    const org = await newOrg({ tier: "professional" });
    const res = await call("/api/v1/analysis/submit", {
      token: org.token,
      body: { image_ref: "nginx:1.25", image_digest: DIGEST, sbom_id: crypto.randomUUID(), config: { test_script: "curl http://localhost:80", test_timeout: 300, enable_fuzzing: true, enable_profiling: true, enable_code_coverage: false, ports: [80, 443], environment: { ENV_VAR: "value" } } },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expectSpecShape(body, SPEC_SUBMIT);
    expect(body).toMatchObject({ status: "queued", image_ref: "nginx:1.25", image_digest: DIGEST, max_cost_credits: 10 + 5 + 3 + 1 });
    expect(res.headers.get("Location")).toBe(`/api/v1/analysis/${body.job_id}/status`);
    await deliver(org.orgId);
    const row = await env.DB.prepare("SELECT organization_id, status, config_json, environment_json FROM analysis_jobs WHERE id = ?").bind(body.job_id).first<Record<string, string | undefined>>();
    expect(row).toMatchObject({ organization_id: org.orgId, status: "queued" });
    expect(JSON.parse(row!.config_json!)).not.toHaveProperty("environment");
    expect(JSON.parse(row!.environment_json!)).toEqual({ ENV_VAR: "value" });
  });

  it("fills unset config from a profile, explicit values winning", async () => {
    const org = await newOrg({ tier: "professional" });
    const q = await json(await call("/api/v1/analysis/quote", { token: org.token, body: submission({ profile: "comprehensive", config: { test_timeout: 120, enable_fuzzing: false } }) }));
    expect(q.config).toMatchObject({ test_timeout: 120, enable_fuzzing: false, enable_profiling: true, enable_code_coverage: true });
  });

  it("takes a VEX policy and shows it with the job; unset, the organization's default applies at dispatch", async () => {
    const org = await newOrg({ tier: "starter" });
    const dflt = await submit(org.token, submission());
    const strict = await submit(org.token, submission({ config: { vex_policy: "strict" } }));
    const { jobs } = await json(await call("/api/v1/analysis?limit=10", { token: org.token }));
    const policy = (id: string) => jobs.find((j: { job_id: string }) => j.job_id === id).config.vex_policy;
    expect(policy(dflt.job_id)).toBeUndefined();
    expect(policy(strict.job_id)).toBe("strict");
  });

  it("stores an inline SBOM and scan in R2 and refuses unknown formats", async () => {
    const org = await newOrg({ tier: "starter" });
    const sbom = { bomFormat: "CycloneDX", specVersion: "1.5", components: [] };
    const vulns = { matches: [] };
    const { job_id } = await submit(org.token, submission({ sbom, vulnerabilities: vulns }));
    expect(await (await env.ARTIFACTS.get(`inputs/${org.orgId}/${job_id}/sbom.json`))!.json()).toEqual(sbom);
    const bad = await expectEnvelope(await call("/api/v1/analysis/submit", { token: org.token, body: submission({ sbom: { hello: "world" } }) }), 400, "VALIDATION_ERROR");
    expect(bad.details.fields[0].field).toBe("sbom");
  });

  const invalid: [string, Record<string, unknown>, string][] = [
    ["image_ref", { image_ref: "UPPER/Case:tag" }, "image_ref"],
    ["image_ref", { image_ref: "" }, "image_ref"],
    ["image_digest", { image_digest: "sha256:abc123" }, "image_digest"],
    ["image_digest", { image_digest: "md5:" + "a".repeat(64) }, "image_digest"],
    ["digest mismatch", { image_ref: `nginx@sha256:${"cd".repeat(32)}` }, "image_digest"],
    ["sbom_id", { sbom_id: "not-a-uuid" }, "sbom_id"],
    ["test_timeout low", { config: { test_timeout: 59 } }, "config.test_timeout"],
    ["test_timeout high", { config: { test_timeout: 3601 } }, "config.test_timeout"],
    ["port 0", { config: { ports: [0] } }, "config.ports.0"],
    ["port 65536", { config: { ports: [65536] } }, "config.ports.0"],
    ["17 ports", { config: { ports: Array.from({ length: 17 }, (_, i) => i + 1) } }, "config.ports"],
    ["env name", { config: { environment: { "BAD-NAME": "x" } } }, "config.environment.BAD-NAME"],
    ["env count", { config: { environment: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, "x"])) } }, "config.environment"],
    ["env value", { config: { environment: { V: "x".repeat(4097) } } }, "config.environment.V"],
    ["script", { config: { test_script: "x".repeat(16 * 1024 + 1) } }, "config.test_script"],
    ["flag type", { config: { enable_fuzzing: "yes" } }, "config.enable_fuzzing"],
    ["vex_policy", { config: { vex_policy: "lenient" } }, "config.vex_policy"],
    ["unknown field", { config: { test_timout: 300 } }, "config"],
    ["profile", { profile: "everything" }, "profile"],
  ];
  for (const [name, over, field] of invalid) {
    it(`refuses an invalid ${name} with 400 naming ${field}`, async () => {
      const org = await newOrg({ tier: "starter" });
      const body = { ...submission(), ...over };
      const err = await expectEnvelope(await call("/api/v1/analysis/submit", { token: org.token, body }), 400, "VALIDATION_ERROR");
      expect(err.details.fields.map((f: { field: string }) => f.field)).toContain(field);
      expect((await account(org.orgId)).current_period_analyses).toBe(0);
    });
  }

  it("accepts registry hosts with ports, nested paths and digests in references", async () => {
    const org = await newOrg({ tier: "starter" });
    for (const ref of ["registry.example.com:5000/team/app:v1.2.3", "ghcr.io/org/image", `docker.io/library/nginx@${DIGEST}`, "localhost/app:dev"]) {
      expect((await call("/api/v1/analysis/submit", { token: org.token, body: submission({ image_ref: ref }) })).status, ref).toBe(201);
    }
  });

  it("refuses registries on internal addresses with 400 naming image_ref, unless RUNNER_ALLOWED_REGISTRIES lists them", async () => {
    const org = await newOrg({ tier: "starter" });
    const refused = [
      "127.0.0.1:8002/app:1", // the runner's own port
      "169.254.169.254/latest/meta-data:x", // cloud metadata
      "[::1]:5000/app",
      "[::ffff:127.0.0.1]:5000/app",
      "[fd00:ec2::254]/app",
      "0x7f.0.0.1:5000/app", // another spelling of 127.0.0.1
      "2130706433:5000/app", // and another
      "10.0.0.5/app", // allowed only on port 5000
      "10.0.0.6:5000/app",
      "192.168.1.10:5000/app",
      "localhost:5000/app", // only localhost's default port is allowed
      "registry:5000/app", // single label: resolves through search domains (a cluster's services)
      "metadata.google.internal/app",
      "kubernetes.default.svc/app",
    ];
    for (const ref of refused) {
      const err = await expectEnvelope(await call("/api/v1/analysis/submit", { token: org.token, body: submission({ image_ref: ref }) }), 400, "VALIDATION_ERROR");
      expect(err.details.fields.map((f: { field: string }) => f.field), ref).toEqual(["image_ref"]);
    }
    for (const ref of ["10.0.0.5:5000/team/app:1", "localhost/app:dev", "registry.example.com/app"]) {
      expect((await call("/api/v1/analysis/submit", { token: org.token, body: submission({ image_ref: ref }) })).status, ref).toBe(201);
    }
    expect((await account(org.orgId)).current_period_analyses).toBe(3);
  });
});

describe("the ledger delivers admitted jobs; until then readers get them from it", () => {
  const jobRow = (id: string) => env.DB.prepare("SELECT status, max_cost, reachability_verdicts FROM analysis_jobs WHERE id = ?").bind(id).first();

  it("finds a just-admitted job that is not in D1 yet: status, results, list, events and cancel", async () => {
    const org = await newOrg({ tier: "starter" });
    const restore = await breakDelivery(org.ledger); // D1 refuses the object's batches: nothing is delivered
    const { job_id } = await submitOnly(org.token);
    const other = await submitOnly(org.token);
    expect(await jobRow(job_id)).toBeNull();
    const status = await call(`/api/v1/analysis/${job_id}/status`, { token: org.token });
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({ job_id, status: "queued", progress_percent: 0 });
    const results = await json(await call(`/api/v1/analysis/${job_id}/results`, { token: org.token }));
    expect(results).toMatchObject({ job_id, status: "queued", vex_document: null });
    expect(await jobRow(job_id)).toBeNull(); // read from the ledger, not flushed to D1 by the read
    const list = await json(await call("/api/v1/analysis", { token: org.token }));
    expect(list.jobs.map((j: { job_id: string }) => j.job_id).sort()).toEqual([other.job_id, job_id].sort());
    const queued = await json(await call("/api/v1/analysis?status=queued", { token: org.token }));
    expect(queued.jobs).toHaveLength(2);
    expect((await json(await call("/api/v1/analysis?status=running", { token: org.token }))).jobs).toHaveLength(0);
    const events = await json(await call("/api/v1/billing/events", { token: org.token }));
    expect(events.slice(0, 2).map((e: { event_type: string; analysis_job_id: string }) => [e.event_type, e.analysis_job_id])).toEqual([
      ["hold_placed", other.job_id],
      ["hold_placed", job_id],
    ]);
    await restore();
    // A write to a held job has the ledger deliver it first, then goes through the state machine.
    const cancelled = await call(`/api/v1/analysis/${job_id}/cancel`, { token: org.token, method: "POST" });
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ status: "cancelled" });
    expect(await jobRow(other.job_id)).toMatchObject({ status: "queued", max_cost: 11, reachability_verdicts: 1 });
  });

  it("writes the job and queues its dispatch on its own, without any reader", async () => {
    const org = await newOrg({ tier: "free" });
    const { job_id } = await submitOnly(org.token);
    for (let i = 0; i < 100 && !(await jobRow(job_id)); i++) await new Promise((r) => setTimeout(r, 20));
    // A free organization's verdicts flag is recorded at admission from its tier.
    expect(await jobRow(job_id)).toMatchObject({ status: "queued", max_cost: 11, reachability_verdicts: 0 });
    const entry = await env.DB.prepare("SELECT event_type, held_amount FROM billing_events WHERE analysis_job_id = ?").bind(job_id).first();
    expect(entry).toEqual({ event_type: "hold_placed", held_amount: 11 });
  });

  it("records nothing for a refused submission", async () => {
    const org = await newOrg({ tier: "starter", balance: 5 });
    const refused = await call("/api/v1/analysis/submit", { token: org.token, body: submission() });
    expect(refused.status).toBe(429);
    expect((await org.ledger.undelivered(org.orgId)).jobs).toEqual([]);
    await deliver(org.orgId);
    const n = await env.DB.prepare("SELECT COUNT(*) AS n FROM analysis_jobs WHERE organization_id = ?").bind(org.orgId).first<{ n: number }>();
    expect(n!.n).toBe(0);
  });
});

describe("status, results, list, cancel", () => {
  it("shows status and 200 results with null fields while queued", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    const status = await json(await call(`/api/v1/analysis/${job_id}/status`, { token: org.token }));
    expectSpecShape(status, SPEC_STATUS);
    expect(status).toMatchObject({ status: "queued", progress_percent: 0, started_at: null, error_message: null });
    const results = await call(`/api/v1/analysis/${job_id}/results`, { token: org.token });
    expect(results.status).toBe(200);
    expect(await json(results)).toMatchObject({ status: "queued", vex_document: null, execution_profile: null, reachability_results: null, security_findings: null, cost_credits: null, completed_at: null });
  });

  it("hides another organization's jobs behind the same 404 as a missing one", async () => {
    const a = await newOrg({ tier: "starter" });
    const b = await newOrg({ tier: "starter" });
    const { job_id } = await submit(a.token);
    const other = await expectEnvelope(await call(`/api/v1/analysis/${job_id}/status`, { token: b.token }), 404, "RESOURCE_NOT_FOUND");
    const missing = await expectEnvelope(await call(`/api/v1/analysis/${crypto.randomUUID()}/status`, { token: b.token }), 404, "RESOURCE_NOT_FOUND");
    expect(other.message).toBe(missing.message);
    await expectEnvelope(await call(`/api/v1/analysis/${job_id}/results`, { token: b.token }), 404, "RESOURCE_NOT_FOUND");
    await expectEnvelope(await call(`/api/v1/analysis/${job_id}/cancel`, { token: b.token, method: "POST" }), 404, "RESOURCE_NOT_FOUND");
    const list = await json(await call("/api/v1/analysis", { token: b.token }));
    expect(list.jobs).toEqual([]);
    await expectEnvelope(await call(`/api/v1/analysis/not-a-uuid/status`, { token: b.token }), 400, "VALIDATION_ERROR");
  });

  it("lists newest first with a cursor and a status filter, never environment values", async () => {
    const org = await newOrg({ tier: "starter" });
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(org.token, submission({ config: { test_timeout: 60, environment: { SECRET_TOKEN: `s3cret-${i}` } } }))).job_id);
    const page1 = await json(await call("/api/v1/analysis?limit=2", { token: org.token }));
    expect(page1.jobs).toHaveLength(2);
    const page2 = await json(await call(`/api/v1/analysis?limit=2&cursor=${page1.next_cursor}`, { token: org.token }));
    const page3 = await json(await call(`/api/v1/analysis?limit=2&cursor=${page2.next_cursor}`, { token: org.token }));
    const all = [...page1.jobs, ...page2.jobs, ...page3.jobs].map((j: { job_id: string }) => j.job_id);
    expect(new Set(all)).toEqual(new Set(ids));
    expect(page3.next_cursor).toBeNull();
    const text = JSON.stringify([page1, page2, page3]);
    expect(text).not.toContain("s3cret");
    expect(page1.jobs[0].config.environment_variables).toEqual(["SECRET_TOKEN"]);
    await call(`/api/v1/analysis/${ids[0]}/cancel`, { token: org.token, method: "POST" });
    const cancelled = await json(await call("/api/v1/analysis?status=cancelled", { token: org.token }));
    expect(cancelled.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([ids[0]]);
    await expectEnvelope(await call("/api/v1/analysis?cursor=garbage", { token: org.token }), 400, "VALIDATION_ERROR");
    await expectEnvelope(await call("/api/v1/analysis?status=done", { token: org.token }), 400, "VALIDATION_ERROR");
  });

  it("cancels a queued job for free (hold voided, analysis refunded) and refuses a second cancel with 409", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    expect((await account(org.orgId)).held).toBe(11);
    const res = await call(`/api/v1/analysis/${job_id}`, { token: org.token, method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ status: "cancelled", error_message: "Cancelled by the user" });
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ held: 0, balance: 1000, current_period_analyses: 0 });
    await expectEnvelope(await call(`/api/v1/analysis/${job_id}/cancel`, { token: org.token, method: "POST" }), 409, "RESOURCE_CONFLICT");
    const row = await env.DB.prepare("SELECT environment_json, billing_state FROM analysis_jobs WHERE id = ?").bind(job_id).first();
    expect(row).toEqual({ environment_json: null, billing_state: "voided" });
  });

  it("charges a cancelled running job base cost plus started 5-minute blocks it ran", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token, submission({ config: { test_timeout: 1800 } }));
    const startedAt = new Date(Date.now() - 7 * 60_000).toISOString();
    expect((await progress(job_id, "running_test_script", 40, { sandbox_started_at: startedAt })).status).toBe(200);
    await call(`/api/v1/analysis/${job_id}/cancel`, { token: org.token, method: "POST" });
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ held: 0, current_period_credits_used: 12, balance: 988 });
  });
});

describe("runner callbacks and the job state machine", () => {
  it("moves queued → running → analyzing → complete, stores results and settles the actual cost once", async () => {
    const org = await newOrg({ tier: "professional" });
    const { job_id } = await submit(org.token, submission({ config: { test_timeout: 900, enable_fuzzing: true, enable_profiling: true } }));
    expect((await account(org.orgId)).held).toBe(10 + 5 + 3 + 3);
    const p1 = await json(await progress(job_id, "pulling_image", 5));
    expect(p1).toMatchObject({ status: "running", progress_percent: 5, current_phase: "Pulling image by digest" });
    await progress(job_id, "security_scan", 45, { sandbox_started_at: new Date().toISOString() });
    const st = await json(await call(`/api/v1/analysis/${job_id}/status`, { token: org.token }));
    expect(st).toMatchObject({ status: "running", progress_percent: 45, current_phase: "Running OWASP ZAP security scan" });
    expect(st.started_at).not.toBeNull();
    expect((await json(await progress(job_id, "computing_reachability", 80))).status).toBe("analyzing");
    // A late, reordered progress report does not move the job backwards.
    expect((await json(await progress(job_id, "running_test_script", 30))).status).toBe("analyzing");
    const done = await runnerCall("POST", `/internal/v1/jobs/${job_id}/complete`, completion());
    expect(done.status).toBe(200);
    const results = await json(await call(`/api/v1/analysis/${job_id}/results`, { token: org.token }));
    expectSpecShape(results, SPEC_RESULTS);
    // ZAP skipped → fuzzing not billed: base 10 + profiling 3 + 2 blocks (301 s) = 15.
    expect(results).toMatchObject({ status: "complete", cost_credits: 15 });
    expect(results.vex_document["@context"]).toBe("https://openvex.dev/ns/v0.2.0");
    expect(results.security_findings.status).toBe("skipped");
    expect(await account(org.orgId)).toMatchObject({ held: 0, balance: 5000 - 15, current_period_credits_used: 15 });
    // Duplicate and late callbacks are harmless.
    expect((await runnerCall("POST", `/internal/v1/jobs/${job_id}/complete`, completion({ sandbox_seconds: 3000 }))).status).toBe(200);
    expect((await progress(job_id, "writing_vex", 95)).status).toBe(409);
    expect((await runnerCall("POST", `/internal/v1/jobs/${job_id}/fail`, { error_code: "internal", error_message: "x", fault: "service", sandbox_ran: true, sandbox_seconds: 1 })).status).toBe(409);
    expect(await account(org.orgId)).toMatchObject({ balance: 5000 - 15, current_period_credits_used: 15 });
    await expectEnvelope(await call(`/api/v1/analysis/${job_id}/cancel`, { token: org.token, method: "POST" }), 409, "RESOURCE_CONFLICT");
  });

  it("fails a job by the service's fault for free, and a workload failure after the sandbox ran for base + run time", async () => {
    const org = await newOrg({ tier: "starter" });
    const a = (await submit(org.token)).job_id;
    const fa = await runnerCall("POST", `/internal/v1/jobs/${a}/fail`, { error_code: "sandbox_start_failed", error_message: "podman failed", fault: "service", sandbox_ran: false, sandbox_seconds: 0 });
    expect(fa.status).toBe(200);
    const st = await json(await call(`/api/v1/analysis/${a}/status`, { token: org.token }));
    expect(st).toMatchObject({ status: "failed", error_message: "podman failed" });
    const b = (await submit(org.token, submission({ config: { test_timeout: 900 } }))).job_id;
    await runnerCall("POST", `/internal/v1/jobs/${b}/fail`, { error_code: "unhealthy", error_message: "port 80 never answered", fault: "workload", sandbox_ran: true, sandbox_seconds: 400 });
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_credits_used: 12, current_period_analyses: 1 });
  });

  it("keeps a job the runner holds for its prober image queued, and fails it for free when the host lacks something", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token, submission({ config: { test_script: "curl -fsS http://localhost:8080/" } }));
    const held = await json(await progress(job_id, "waiting_for_prober_image", 0));
    expect(held).toMatchObject({ status: "queued" });
    const queued = await json(await call(`/api/v1/analysis/${job_id}/status`, { token: org.token }));
    expect(queued).toMatchObject({ status: "queued", phase: "waiting_for_prober_image", current_phase: "Waiting for the runner to prepare its test-script image", started_at: null });
    const message = "the prober image localhost/vexxy-test/prober:latest is missing and could not be built: debootstrap is not installed; fix: apt-get install -y debootstrap";
    const failed = await runnerCall("POST", `/internal/v1/jobs/${job_id}/fail`, { error_code: "sandbox_unavailable", error_message: message, fault: "service", sandbox_ran: false, sandbox_seconds: 0 });
    expect(failed.status).toBe(200);
    const st = await json(await call(`/api/v1/analysis/${job_id}/status`, { token: org.token }));
    expect(st).toMatchObject({ status: "failed", error_code: "sandbox_unavailable", error_message: message });
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_credits_used: 0, current_period_analyses: 0 });
  });

  it("refuses forged callbacks without changing anything", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    const path = `/internal/v1/jobs/${job_id}/complete`;
    await expectEnvelope(await runnerCall("POST", path, completion(), { secret: "not-the-runner-secret-not-the-runner-secret" }), 401, "UNAUTHORIZED");
    // The previous secret (RUNNER_SECRET_PREVIOUS, a rotation in progress) is accepted.
    expect((await runnerCall("POST", `/internal/v1/jobs/${job_id}/progress`, { phase: "pulling_image", progress_percent: 1 }, { secret: TEST_SECRETS.RUNNER_SECRET_PREVIOUS })).status).toBe(200);
    await expectEnvelope(await runnerCall("POST", path, completion(), { now: Date.now() - 10 * 60_000 }), 401, "UNAUTHORIZED");
    await expectEnvelope(await call(path, { body: completion() }), 401, "UNAUTHORIZED");
    // Signed for another job's path, replayed on this one.
    const other = await submit(org.token);
    const raw = JSON.stringify(completion());
    const { signRequest } = await import("@vexxy/contract");
    const headers = await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", `/internal/v1/jobs/${other.job_id}/complete`, raw);
    await expectEnvelope(await call(path, { body: raw, headers }), 401, "UNAUTHORIZED");
    // A valid request replayed verbatim.
    const hp = await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", `/internal/v1/jobs/${job_id}/progress`, JSON.stringify({ phase: "pulling_image", progress_percent: 1 }));
    expect((await call(`/internal/v1/jobs/${job_id}/progress`, { body: JSON.stringify({ phase: "pulling_image", progress_percent: 1 }), headers: hp })).status).toBe(200);
    await expectEnvelope(await call(`/internal/v1/jobs/${job_id}/progress`, { body: JSON.stringify({ phase: "pulling_image", progress_percent: 1 }), headers: hp }), 401, "UNAUTHORIZED");
    // Tampered body under a valid signature.
    const ht = await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", path, raw);
    await expectEnvelope(await call(path, { body: raw.replace("301", "1"), headers: ht }), 401, "UNAUTHORIZED");
    const st = await json(await call(`/api/v1/analysis/${job_id}/status`, { token: org.token }));
    expect(st.status).toBe("running");
    expect((await account(org.orgId)).current_period_credits_used).toBe(0);
  });

  it("authenticates callbacks from their headers before reading the body, and caps bodies (1 MiB; 32 MiB for completions) even when chunked", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    const { signRequest } = await import("@vexxy/contract");
    const fetchRaw = (path: string, body: BodyInit, headers: Record<string, string>) =>
      (exports as unknown as { default: Fetcher }).default.fetch(`http://premium.test${path}`, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
    /** A body that never declares its length (Transfer-Encoding: chunked), `size` bytes in 64 KiB chunks. */
    const chunked = (size: number) => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (sent >= size) return ctrl.close();
          const n = Math.min(65536, size - sent);
          sent += n;
          ctrl.enqueue(new Uint8Array(n).fill(32));
        },
      });
    };
    const progressPath = `/internal/v1/jobs/${job_id}/progress`;
    // Unsigned: 401 from the headers, however large the body claims to be or is.
    await expectEnvelope(await fetchRaw(progressPath, chunked(40 * 1024 * 1024), {}), 401, "UNAUTHORIZED");
    // Signed, but the body is over the callback limit: 413 in the envelope, with or without a Content-Length.
    const big = " ".repeat(2 * 1024 * 1024);
    const signed = await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", progressPath, big);
    const e1 = await expectEnvelope(await fetchRaw(progressPath, big, signed), 413, "VALIDATION_ERROR");
    expect(e1.details).toEqual({ max_bytes: 1024 * 1024 });
    const signed2 = await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", progressPath, big);
    await expectEnvelope(await fetchRaw(progressPath, chunked(big.length), signed2), 413, "VALIDATION_ERROR");
    // A completion may be larger than 1 MiB (its VEX document): accepted as far as its size goes.
    const completePath = `/internal/v1/jobs/${job_id}/complete`;
    const large = JSON.stringify({ ...completion(), padding: "x".repeat(2 * 1024 * 1024) });
    const done = await fetchRaw(completePath, large, await signRequest(TEST_SECRETS.RUNNER_SECRET, "POST", completePath, large));
    expect(done.status).not.toBe(413);
    expect(done.status).toBeLessThan(500);
  });

  it("answers 404 for an unknown job and 400 for a malformed callback", async () => {
    await expectEnvelope(await progress(crypto.randomUUID(), "pulling_image", 1), 404, "RESOURCE_NOT_FOUND");
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    await expectEnvelope(await runnerCall("POST", `/internal/v1/jobs/${job_id}/progress`, { phase: "dancing", progress_percent: 120 }), 400, "VALIDATION_ERROR");
  });

  it("serves the job's stored inputs to the runner only", async () => {
    const org = await newOrg({ tier: "starter" });
    const sbom = { bomFormat: "CycloneDX", specVersion: "1.4", components: [{ name: "zlib" }] };
    const { job_id } = await submit(org.token, submission({ sbom }));
    const res = await runnerCall("GET", `/internal/v1/jobs/${job_id}/inputs/sbom`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(sbom);
    await expectEnvelope(await runnerCall("GET", `/internal/v1/jobs/${job_id}/inputs/vulnerabilities`), 404, "RESOURCE_NOT_FOUND");
    await expectEnvelope(await call(`/internal/v1/jobs/${job_id}/inputs/sbom`), 401, "UNAUTHORIZED");
  });
});

describe("GET /api/v1/analysis/{job_id}/events", () => {
  it("streams status changes as Server-Sent Events until the job ends", async () => {
    const org = await newOrg({ tier: "starter" });
    const { job_id } = await submit(org.token);
    const res = await call(`/api/v1/analysis/${job_id}/events`, { token: org.token });
    expect(res.headers.get("Content-Type")).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += dec.decode(value);
      }
    };
    await readUntil('"status":"queued"');
    await progress(job_id, "waiting_for_health", 20);
    await readUntil('"progress_percent":20');
    await runnerCall("POST", `/internal/v1/jobs/${job_id}/complete`, completion());
    await readUntil("event: end");
    expect(text).toContain('"status":"complete"');
    expect(text.match(/event: status/g)!.length).toBeGreaterThanOrEqual(3);
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import worker from "../src/index.js";
import { call, json } from "./support/http.js";
import { account, deliver as deliverLedger, newOrg, submission } from "./support/orgs.js";
import { progress, stubRunner } from "./support/runner.js";
import { verifyRequest, DispatchBatchSchema } from "@vexxy/contract";
import { TEST_SECRETS } from "./support/secrets.js";
import { sweep } from "../src/services/sweep.js";
import { RECOVERY_TICK_MS } from "../src/ledger/recovery.js";
import { ledgerFor } from "../src/ledger/client.js";
import { recordQueueSends, runAlarm } from "./support/ledger.js";

let restore: (() => void) | null = null;
afterEach(() => restore?.());

async function submitted(tier: "starter" | "free" = "starter", over: Record<string, unknown> = {}) {
  const org = await newOrg({ tier });
  const res = await call("/api/v1/analysis/submit", { token: org.token, body: submission(over) });
  const { job_id } = await json(res);
  await deliverLedger(org.orgId);
  return { org, jobId: job_id as string };
}

async function deliver(queue: string, ...bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as (b: MessageBatch, e: Env, c: ExecutionContext) => Promise<void>)(batch as MessageBatch, env, ctx);
  return getQueueResult(batch, ctx);
}

const row = (id: string) => env.DB.prepare("SELECT status, dispatched_at, dispatch_attempts, lease_expires_at, error_message, billing_state FROM analysis_jobs WHERE id = ?").bind(id).first<Record<string, any>>();

describe("dispatch backoff", () => {
  it("doubles from 5 s with jitter and caps at 15 s, so a runner that comes back is found quickly", async () => {
    const { backoffSeconds } = await import("../src/services/runner/dispatchJobs.js");
    for (const [attempt, base] of [[1, 5], [2, 10], [3, 15], [10, 15]] as const) {
      const d = backoffSeconds(attempt);
      expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(d).toBeLessThanOrEqual(Math.ceil(base * 1.2));
    }
  });
});

describe("queue consumer → runner", () => {
  it("sends the job's VEX policy, or its organization's default when the job chose none", async () => {
    const { org, jobId } = await submitted("starter");
    const strictJob = (await json(await call("/api/v1/analysis/submit", { token: org.token, body: submission({ config: { vex_policy: "strict" } }) }))).job_id;
    const settings = await call("/api/v1/organization/settings", { token: org.token });
    expect(await json(settings)).toEqual({ default_vex_policy: "standard" });
    const policyOf = async (id: string) => {
      const stub = stubRunner(() => new Response('{"accepted":true}', { status: 202 }));
      try {
        await deliverLedger(org.orgId);
        await deliver("vexxy-analysis-jobs", { job_id: id, organization_id: org.orgId });
        const req = stub.seen.find((r) => new URL(r.url).pathname === "/v1/job-batches")!;
        return DispatchBatchSchema.parse(JSON.parse(await req.text())).jobs[0]!.config.vex_policy;
      } finally {
        stub.restore();
      }
    };
    expect(await policyOf(jobId)).toBe("standard");
    expect(await policyOf(strictJob)).toBe("strict");

    const changed = await call("/api/v1/organization/settings", { method: "PATCH", token: org.token, body: { default_vex_policy: "strict" } });
    expect(changed.status).toBe(200);
    const later = (await json(await call("/api/v1/analysis/submit", { token: org.token, body: submission() }))).job_id;
    expect(await policyOf(later)).toBe("strict");
    // An explicit choice still wins over the default.
    const chosen = (await json(await call("/api/v1/analysis/submit", { token: org.token, body: submission({ config: { vex_policy: "standard" } }) }))).job_id;
    expect(await policyOf(chosen)).toBe("standard");
  });

  it("sends a signed dispatch the runner can verify, and marks the job dispatched on 202", async () => {
    const { org, jobId } = await submitted("starter", { config: { test_timeout: 60, ports: [8080], environment: { A: "b" } } });
    const stub = stubRunner(() => new Response('{"accepted":true}', { status: 202 }));
    restore = stub.restore;
    const result = await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(result.explicitAcks).toEqual([expect.any(String)]);
    const req = stub.seen.find((r) => new URL(r.url).pathname === "/v1/job-batches")!;
    const raw = await req.text();
    const check = await verifyRequest(TEST_SECRETS.RUNNER_SECRET, "POST", "/v1/job-batches", raw, req.headers);
    expect(check.ok).toBe(true);
    const [dispatch] = DispatchBatchSchema.parse(JSON.parse(raw)).jobs;
    expect(dispatch).toMatchObject({ job_id: jobId, organization_id: org.orgId, reachability_verdicts: true, config: { ports: [8080], environment: { A: "b" } } });
    const r = await row(jobId);
    expect(r).toMatchObject({ status: "queued", dispatch_attempts: 1 });
    expect(r!.dispatched_at).not.toBeNull();
    expect(Date.parse(r!.lease_expires_at)).toBeGreaterThan(Date.now());
  });

  it("dispatches a whole queue batch, across organizations, in one signed runner request", async () => {
    const a = await submitted("starter");
    const b = await submitted("free");
    const c = await submitted("starter");
    const stub = stubRunner(() => new Response("{}", { status: 202 }));
    restore = stub.restore;
    const result = await deliver(
      "vexxy-analysis-jobs",
      ...[a, b, c].map((x) => ({ job_id: x.jobId, organization_id: x.org.orgId })),
    );
    expect(result.explicitAcks).toHaveLength(3);
    expect(stub.seen).toHaveLength(1);
    const { jobs } = DispatchBatchSchema.parse(await stub.seen[0]!.json());
    expect(jobs.map((j) => [j.job_id, j.reachability_verdicts])).toEqual([
      [a.jobId, true],
      [b.jobId, false],
      [c.jobId, true],
    ]);
    for (const x of [a, b, c]) expect(await row(x.jobId)).toMatchObject({ status: "queued", dispatch_attempts: 1 });
  });

  it("retries only the jobs the runner answered busy for", async () => {
    const a = await submitted();
    const b = await submitted();
    const stub = stubRunner(async (req) => {
      const job = (await req.json()) as { job_id: string };
      return job.job_id === b.jobId ? new Response('{"error":"busy"}', { status: 503, headers: { "Retry-After": "9" } }) : new Response("{}", { status: 202 });
    });
    restore = stub.restore;
    const result = await deliver("vexxy-analysis-jobs", { job_id: a.jobId, organization_id: a.org.orgId }, { job_id: b.jobId, organization_id: b.org.orgId });
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(1);
    expect((await row(a.jobId))!.dispatched_at).not.toBeNull();
    expect(await row(b.jobId)).toMatchObject({ dispatched_at: null, dispatch_attempts: 1 });
  });

  it("asks the ledger for the verdicts of a job admitted before they were recorded on the row", async () => {
    const { org, jobId } = await submitted("free");
    await env.DB.prepare("UPDATE analysis_jobs SET reachability_verdicts = NULL WHERE id = ?").bind(jobId).run();
    await org.ledger.changePlan({ orgId: org.orgId, opId: `up-${jobId}`, tier: "professional", status: "active", reason: "test" });
    const stub = stubRunner(() => new Response("{}", { status: 202 }));
    restore = stub.restore;
    await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(DispatchBatchSchema.parse(await stub.seen[0]!.json()).jobs[0]).toMatchObject({ reachability_verdicts: true });
  });

  it("tells the runner a free organization gets no runtime verdicts", async () => {
    const { org, jobId } = await submitted("free");
    const stub = stubRunner(() => new Response("{}", { status: 202 }));
    restore = stub.restore;
    await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    const dispatch = JSON.parse(await stub.seen[0]!.text()).jobs[0];
    expect(dispatch).toMatchObject({ reachability_verdicts: false, verdicts_tier: "starter" });
  });

  it("retries with backoff when the runner is at capacity or unreachable", async () => {
    const { org, jobId } = await submitted();
    const stub = stubRunner(() => new Response('{"error":"busy"}', { status: 503, headers: { "Retry-After": "7" } }));
    restore = stub.restore;
    const result = await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(0);
    expect(await row(jobId)).toMatchObject({ status: "queued", dispatched_at: null, dispatch_attempts: 1 });
    stub.restore();
    const down = stubRunner(() => {
      throw new TypeError("connection refused");
    });
    restore = down.restore;
    const again = await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(again.retryMessages).toHaveLength(1);
    expect(await row(jobId)).toMatchObject({ status: "queued", dispatch_attempts: 2 });
  });

  it("does not dispatch a job that was cancelled meanwhile", async () => {
    const { org, jobId } = await submitted();
    await call(`/api/v1/analysis/${jobId}/cancel`, { token: org.token, method: "POST" });
    const stub = stubRunner(() => new Response("{}", { status: 202 }));
    restore = stub.restore;
    const result = await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(result.explicitAcks).toHaveLength(1);
    expect(stub.seen).toHaveLength(0);
  });

  it("fails the job and voids its hold when the runner rejects it", async () => {
    const { org, jobId } = await submitted();
    const stub = stubRunner(() => new Response('{"error":"bad"}', { status: 400 }));
    restore = stub.restore;
    await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    expect(await row(jobId)).toMatchObject({ status: "failed", billing_state: "voided" });
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_analyses: 0 });
  });

  it("dead-lettered dispatches fail the job with 'no sandbox capacity' and void the hold", async () => {
    const { org, jobId } = await submitted();
    await deliver("vexxy-analysis-jobs-dlq", { job_id: jobId, organization_id: org.orgId });
    const r = await row(jobId);
    expect(r).toMatchObject({ status: "failed", billing_state: "voided" });
    expect(r!.error_message).toMatch(/No sandbox capacity/);
    expect((await account(org.orgId)).held).toBe(0);
  });

  it("tells the runner when a dispatched job is cancelled", async () => {
    const { org, jobId } = await submitted();
    const stub = stubRunner(() => new Response("{}", { status: 202 }));
    restore = stub.restore;
    await deliver("vexxy-analysis-jobs", { job_id: jobId, organization_id: org.orgId });
    await call(`/api/v1/analysis/${jobId}/cancel`, { token: org.token, method: "POST" });
    const del = stub.seen.find((r) => r.method === "DELETE")!;
    expect(new URL(del.url).pathname).toBe(`/v1/jobs/${jobId}`);
    expect((await verifyRequest(TEST_SECRETS.RUNNER_SECRET, "DELETE", `/v1/jobs/${jobId}`, "", del.headers)).ok).toBe(true);
  });
});

describe("recovery by the organization's ledger timer (no request, no cron)", () => {
  it("while jobs are in flight, the ledger asks for its organization's recovery each tick, which fails a silent runner's job for free", async () => {
    const { org, jobId } = await submitted();
    await progress(jobId, "running_test_script", 40, { sandbox_started_at: new Date().toISOString() });
    const ledger = ledgerFor(env, org.orgId);
    const sends = await recordQueueSends(ledger as unknown as DurableObjectStub);
    await runAlarm(ledger as unknown as DurableObjectStub); // the first alarm with a job in flight sets the tick
    expect(sends.bodies).not.toContainEqual({ recover_organization: org.orgId });
    // One tick later (the ledger's timer runs on real time, here moved forward) the lease has expired too.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + RECOVERY_TICK_MS + 1000);
      await runAlarm(ledger as unknown as DurableObjectStub);
      expect(sends.bodies).toContainEqual({ recover_organization: org.orgId });
      vi.setSystemTime(Date.now() + 10 * 60_000);
      // The dispatch queue's consumer runs the organization's recovery.
      await deliver("vexxy-analysis-jobs", { recover_organization: org.orgId });
    } finally {
      vi.useRealTimers();
    }
    const r = await row(jobId);
    expect(r).toMatchObject({ status: "failed", billing_state: "voided" });
    expect(r!.error_message).toMatch(/lease expired/);
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_credits_used: 0 });
  });

  it("asks for nothing when no job is in flight", async () => {
    const org = await newOrg({ tier: "starter" });
    const ledger = ledgerFor(env, org.orgId);
    const sends = await recordQueueSends(ledger as unknown as DurableObjectStub);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + RECOVERY_TICK_MS + 1000);
      await ledger.tick(org.orgId);
    } finally {
      vi.useRealTimers();
    }
    expect(sends.bodies).toEqual([]);
  });
});

describe("leases and recovery (cron sweep)", () => {
  it("fails a running job whose runner stopped heartbeating, for free", async () => {
    const { org, jobId } = await submitted();
    await progress(jobId, "running_test_script", 40, { sandbox_started_at: new Date().toISOString() });
    const report = await sweep(env, Date.now() + 10 * 60_000);
    expect(report.leasesExpired).toBeGreaterThanOrEqual(1);
    const r = await row(jobId);
    expect(r).toMatchObject({ status: "failed", billing_state: "voided" });
    expect(r!.error_message).toMatch(/lease expired/);
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_credits_used: 0 });
  });

  it("re-dispatches a queued job whose dispatch was lost", async () => {
    const { jobId } = await submitted();
    const sends: unknown[] = [];
    const original = env.ANALYSIS_QUEUE.send.bind(env.ANALYSIS_QUEUE);
    (env.ANALYSIS_QUEUE as { send: unknown }).send = async (m: unknown) => void sends.push(m);
    try {
      const report = await sweep(env, Date.now() + 5 * 60_000);
      expect(report.redispatched).toBeGreaterThanOrEqual(1);
      expect(sends).toContainEqual(expect.objectContaining({ job_id: jobId }));
    } finally {
      (env.ANALYSIS_QUEUE as { send: unknown }).send = original;
    }
  });

  it("finishes a settlement a crash interrupted", async () => {
    const { org, jobId } = await submitted();
    // The state machine recorded the decision, then the Worker died before telling the ledger.
    await env.DB.prepare("UPDATE analysis_jobs SET status = 'complete', billing_state = 'to_settle', cost_credits = 11 WHERE id = ?").bind(jobId).run();
    expect((await account(org.orgId)).held).toBe(11);
    const report = await sweep(env);
    expect(report.billed).toBeGreaterThanOrEqual(1);
    expect(await account(org.orgId)).toMatchObject({ held: 0, current_period_credits_used: 11 });
    expect((await row(jobId))!.billing_state).toBe("settled");
  });

  it("runs from the scheduled handler", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled!(createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
  });
});

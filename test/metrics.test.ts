/** Spec §11 metrics: GET /internal/v1/metrics (Prometheus text, operator token) yields exact values for a known workload. */
import { describe, expect, it } from "vitest";
import { call, expectEnvelope, json } from "./support/http.js";
import { deliver, newOrg, submission } from "./support/orgs.js";
import { completion, progress, runnerCall } from "./support/runner.js";
import { deliver as deliverStripe } from "./stripe/support.js";
import { TEST_SECRETS } from "./support/secrets.js";
import { STRIPE_API_VERSION } from "../src/services/stripe/client.js";

async function scrape(): Promise<Map<string, number>> {
  const res = await call("/internal/v1/metrics", { headers: { Authorization: `Bearer ${TEST_SECRETS.OPERATOR_TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^(\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    samples.set(m![1]!, Number(m![2]));
  }
  return samples;
}

const delta = (before: Map<string, number>, after: Map<string, number>, key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);

describe("GET /internal/v1/metrics", () => {
  it("requires the operator token", async () => {
    await expectEnvelope(await call("/internal/v1/metrics"), 401, "UNAUTHORIZED");
    await expectEnvelope(await call("/internal/v1/metrics", { headers: { Authorization: "Bearer not-the-operator-token" } }), 401, "UNAUTHORIZED");
  });

  it("counts a known workload exactly: queue depth, held and consumed credits, quota refusals, webhook processing", async () => {
    const before = await scrape();
    // Two jobs for one organization; one runs to completion (base 10 + profiling 3 + 2 started 5-minute blocks = 15).
    const org = await newOrg({ tier: "professional" });
    const submit = async () => json(await call("/api/v1/analysis/submit", { token: org.token, body: submission({ config: { test_timeout: 900, enable_profiling: true } }) }));
    const a = await submit();
    const b = await submit();
    await deliver(org.orgId);
    const queued = await scrape();
    expect(delta(before, queued, 'vexxy_analysis_jobs{status="queued"}')).toBe(2);
    expect(delta(before, queued, "vexxy_credits_held")).toBe(a.max_cost_credits + b.max_cost_credits);
    await progress(a.job_id, "running_test_script", 40, { sandbox_started_at: new Date().toISOString() });
    expect((await runnerCall("POST", `/internal/v1/jobs/${a.job_id}/complete`, completion())).status).toBe(200);
    await deliver(org.orgId);

    // A free organization submits until its plan refuses one (credits or monthly analyses, whichever ends first).
    const free = await newOrg();
    let freeHeld = 0;
    let freeQueued = 0;
    let refusedFor = "";
    for (let i = 0; i < 20 && !refusedFor; i++) {
      const res = await call("/api/v1/analysis/submit", { token: free.token, body: submission() });
      if (res.status === 201) {
        freeQueued++;
        freeHeld += (await json(res)).max_cost_credits;
      } else refusedFor = (await expectEnvelope(res, 429, "QUOTA_EXCEEDED")).details.quota_type;
    }
    expect(["credits", "monthly_analyses"]).toContain(refusedFor);
    await deliver(free.orgId);

    // One Stripe event of a type the service does not act on.
    const ack = await deliverStripe({
      id: `evt_${crypto.randomUUID()}`,
      object: "event",
      api_version: STRIPE_API_VERSION,
      type: "radar.early_fraud_warning.created",
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: "issfr_1" } },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    });
    expect(ack.status).toBe(200);

    const after = await scrape();
    expect(delta(before, after, 'vexxy_analysis_jobs{status="queued"}')).toBe(1 + freeQueued); // b, and the free organization's
    expect(delta(before, after, 'vexxy_analysis_jobs{status="complete"}')).toBe(1);
    expect(delta(before, after, "vexxy_credits_consumed_total")).toBe(15);
    expect(delta(before, after, "vexxy_credits_held")).toBe(b.max_cost_credits + freeHeld);
    expect(delta(before, after, `vexxy_quota_exceeded_total{quota_type="${refusedFor}"}`)).toBe(1);
    expect(delta(before, after, 'vexxy_stripe_webhook_processing_seconds_count{outcome="ignored"}')).toBe(1);
    expect(after.get('vexxy_stripe_webhook_processing_seconds_sum{outcome="ignored"}')).toBeGreaterThanOrEqual(0);
  });
});

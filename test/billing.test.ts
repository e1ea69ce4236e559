import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, expectEnvelope, json } from "./support/http.js";
import { tokenFor } from "./support/tokens.js";
import { authSuite } from "./support/auth-suite.js";
import { SPEC_CREDITS, SPEC_EVENT, SPEC_SUBSCRIPTION, SPEC_TIER, SPEC_USAGE, expectSpecShape } from "./support/spec-shapes.js";
import { ledgerFor } from "../src/ledger/client.js";

for (const path of ["/api/v1/billing/subscription", "/api/v1/billing/credits", "/api/v1/billing/usage", "/api/v1/billing/events"]) {
  authSuite({ method: "GET", path });
}

async function flush(orgId: string) {
  await ledgerFor(env, orgId).deliver(orgId);
}

describe("a new organization", () => {
  it("has an active free subscription whose period is one month from its creation", async () => {
    const { token, claims } = await tokenFor();
    const before = Date.now();
    const res = await call("/api/v1/billing/subscription", { token });
    expect(res.status).toBe(200);
    const sub = await json(res);
    expectSpecShape(sub, SPEC_SUBSCRIPTION);
    expect(sub).toMatchObject({ organization_id: claims.org_id, tier: "free", status: "active", monthly_analysis_limit: 10, monthly_credit_limit: 100, current_period_analyses: 0, current_period_credits_used: 0, trial_end: null, cancel_at_period_end: false });
    const start = Date.parse(sub.current_period_start);
    expect(Math.abs(start - before)).toBeLessThan(5_000);
    const end = new Date(sub.current_period_end);
    const expected = new Date(start);
    expected.setUTCMonth(expected.getUTCMonth() + 1);
    expect(Math.abs(end.getTime() - expected.getTime())).toBeLessThan(3 * 86400_000);
  });

  it("has its free grant as its balance, and usage at 0 %", async () => {
    const { token, claims } = await tokenFor();
    const credits = await json(await call("/api/v1/billing/credits", { token }));
    expectSpecShape(credits, SPEC_CREDITS);
    expect(credits).toMatchObject({ organization_id: claims.org_id, credit_balance: 100, plan_grant_remaining: 100, purchased_credits: 0 });
    const usage = await json(await call("/api/v1/billing/usage", { token }));
    expectSpecShape(usage, SPEC_USAGE);
    expect(usage.utilization_percent).toBe(0);
  });

  it("lists its grant as the first billing event once the ledger has mirrored it", async () => {
    const { token, claims } = await tokenFor();
    await call("/api/v1/billing/credits", { token });
    await flush(claims.org_id!);
    const events = await json(await call("/api/v1/billing/events", { token }));
    expect(events).toHaveLength(1);
    expectSpecShape(events[0], SPEC_EVENT);
    expect(events[0]).toMatchObject({ event_type: "plan_grant", credits_amount: 100, balance_after: 100, analysis_job_id: null });
  });
});

describe("usage", () => {
  it("computes utilization_percent as credits used ÷ monthly limit × 100 with two decimals", async () => {
    const { token, claims } = await tokenFor();
    const ledger = ledgerFor(env, claims.org_id!);
    await ledger.changePlan({ orgId: claims.org_id!, opId: "op-pro", tier: "professional", status: "active", reason: "test" });
    // 523 of 5000 as in the spec's example: three jobs settled for 200 + 200 + 123.
    for (const [i, cost] of [200, 200, 123].entries()) {
      const jobId = crypto.randomUUID();
      await ledger.credit({ orgId: claims.org_id!, opId: `buy-${i}`, credits: 300, type: "credit_purchased", description: "pack" });
      const admitted = await ledger.admit({ orgId: claims.org_id!, jobId, features: { fuzzing: true, profiling: true, code_coverage: true }, testTimeoutSeconds: 3600 });
      expect(admitted.ok).toBe(true);
      // Settle for more than the hold is clamped; these costs are below the 37-credit max cost, so use holds of 37.
      await ledger.settle({ orgId: claims.org_id!, jobId, cost: Math.min(cost, 37), outcome: "completed", description: "job" });
    }
    const usage = await json(await call("/api/v1/billing/usage", { token }));
    expect(usage.current_period_credits_used).toBe(111);
    expect(usage.utilization_percent).toBe(2.22);
  });

  it("is null for unlimited (enterprise) plans", async () => {
    const { token, claims } = await tokenFor();
    await ledgerFor(env, claims.org_id!).changePlan({ orgId: claims.org_id!, opId: "op-ent", tier: "enterprise", status: "active", reason: "test" });
    const usage = await json(await call("/api/v1/billing/usage", { token }));
    expect(usage).toMatchObject({ monthly_analysis_limit: null, monthly_credit_limit: null, utilization_percent: null });
  });
});

describe("GET /api/v1/billing/events", () => {
  it("pages newest first with limit and offset", async () => {
    const { token, claims } = await tokenFor();
    const ledger = ledgerFor(env, claims.org_id!);
    for (let i = 1; i <= 5; i++) await ledger.credit({ orgId: claims.org_id!, opId: `p${i}`, credits: i, type: "credit_purchased", description: `pack ${i}` });
    await flush(claims.org_id!);
    const all = await json(await call("/api/v1/billing/events", { token }));
    expect(all.map((e: { credits_amount: number }) => e.credits_amount)).toEqual([5, 4, 3, 2, 1, 100]);
    const page = await json(await call("/api/v1/billing/events?limit=2&offset=1", { token }));
    expect(page.map((e: { credits_amount: number }) => e.credits_amount)).toEqual([4, 3]);
  });

  it("keeps every entry of one Stripe event, however the ledger's deliveries split them", async () => {
    const { token, claims } = await tokenFor();
    const orgId = claims.org_id!;
    const ledger = ledgerFor(env, orgId);
    // Two effects of the same Stripe event (say a refund's reversal after the purchase it reverses),
    // delivered to D1 in separate rounds.
    await ledger.credit({ orgId, opId: "evt-1:credit", credits: 1000, type: "credit_purchased", description: "Purchased 1000 credits", stripeEventId: "evt_same" });
    await flush(orgId);
    await ledger.credit({ orgId, opId: "evt-1:adjust", credits: 7, type: "operator_adjustment", description: "Second effect of the same event", stripeEventId: "evt_same" });
    await flush(orgId);
    const events = await json(await call("/api/v1/billing/events", { token }));
    const same = events.filter((e: { stripe_event_id: string | null }) => e.stripe_event_id === "evt_same");
    expect(same.map((e: { credits_amount: number }) => e.credits_amount)).toEqual([7, 1000]);
  });

  it("includes entries the ledger has not mirrored yet (the read flushes the mirror first)", async () => {
    const { token, claims } = await tokenFor();
    const orgId = claims.org_id!;
    await call("/api/v1/billing/credits", { token });
    const ledger = ledgerFor(env, orgId);
    await ledger.deliver(orgId); // the next drain is now at least OUTBOX_MIN_INTERVAL_MS away
    for (let i = 1; i <= 3; i++) await ledger.credit({ orgId, opId: `late${i}`, credits: i, type: "credit_purchased", description: `pack ${i}` });
    const unmirrored = await env.DB.prepare("SELECT COUNT(*) AS n FROM billing_events WHERE organization_id = ? AND event_type = 'credit_purchased'").bind(orgId).first<{ n: number }>();
    expect(unmirrored!.n).toBe(0);
    const all = await json(await call("/api/v1/billing/events", { token }));
    expect(all.map((e: { credits_amount: number }) => e.credits_amount)).toEqual([3, 2, 1, 100]);
  });

  it("refuses out-of-range and non-integer paging with 400 naming the parameter", async () => {
    const { token } = await tokenFor();
    for (const q of ["limit=0", "limit=201", "limit=abc", "limit=1.5", "limit=1e2", "offset=-1", "offset=x"]) {
      const body = await expectEnvelope(await call(`/api/v1/billing/events?${q}`, { token }), 400, "VALIDATION_ERROR");
      expect(body.details.fields[0].field).toBe(q.split("=")[0]);
    }
    expect((await call("/api/v1/billing/events?limit=200", { token })).status).toBe(200);
  });

  it("never shows another organization's events", async () => {
    const a = await tokenFor();
    const b = await tokenFor();
    await ledgerFor(env, a.claims.org_id!).credit({ orgId: a.claims.org_id!, opId: "x", credits: 7, type: "credit_purchased", description: "a's pack" });
    await call("/api/v1/billing/credits", { token: b.token });
    await flush(a.claims.org_id!);
    await flush(b.claims.org_id!);
    const eventsB = await json(await call("/api/v1/billing/events", { token: b.token }));
    expect(eventsB.every((e: { organization_id: string }) => e.organization_id === b.claims.org_id)).toBe(true);
    const creditsB = await json(await call("/api/v1/billing/credits", { token: b.token }));
    expect(creditsB.credit_balance).toBe(100);
  });
});

describe("GET /api/v1/billing/tiers", () => {
  it("is public and lists the spec's four tiers exactly", async () => {
    const res = await call("/api/v1/billing/tiers");
    expect(res.status).toBe(200);
    const tiers = await json(res);
    expect(tiers.map((t: { tier: string }) => t.tier)).toEqual(["free", "starter", "professional", "enterprise"]);
    for (const t of tiers) expectSpecShape(t, SPEC_TIER);
    expect(tiers[2]).toEqual({
      tier: "professional",
      monthly_analysis_limit: 500,
      monthly_credit_limit: 5000,
      priority: 2,
      features: ["basic_analysis", "vex_generation", "reachability_analysis", "security_fuzzing", "priority_support"],
    });
    expect(tiers[3]).toMatchObject({ monthly_analysis_limit: null, monthly_credit_limit: null, priority: 3 });
    expect(tiers[3].features).toContain("custom_integrations");
  });
});

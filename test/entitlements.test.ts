/**
 * GET /api/v1/billing/entitlements (issue #17): one call for the base application's page views. Its
 * `can_submit` comes from the ledger's own admission rules, so it and the next submit agree for every
 * refusal reason, in the admission's order and words.
 */
import { describe, expect, it } from "vitest";
import { call, json } from "./support/http.js";
import { newOrg, submission } from "./support/orgs.js";

type Org = Awaited<ReturnType<typeof newOrg>>;

async function entitlements(org: Org, query = "") {
  const res = await call(`/api/v1/billing/entitlements${query}`, { token: org.token });
  expect(res.status).toBe(200);
  return json(res);
}

/** Asks, then submits the same submission, and checks that the two agree. */
async function agree(org: Org, query: string, body: Record<string, unknown>) {
  const said = await entitlements(org, query);
  const res = await call("/api/v1/analysis/submit", { token: org.token, body });
  const answer = await json(res);
  if (said.can_submit.allowed) {
    expect(res.status, JSON.stringify(answer)).toBe(201);
    expect(said.can_submit.max_cost_credits).toBe(answer.max_cost_credits);
  } else {
    expect(res.status).toBe(said.can_submit.error === "FORBIDDEN" ? 403 : 429);
    expect(answer.error).toBe(said.can_submit.error);
    expect(answer.message).toBe(said.can_submit.reason);
    expect(answer.details).toEqual(said.can_submit.details);
  }
  return said;
}

describe("GET /api/v1/billing/entitlements", () => {
  it("gives tier, status, features, what is left and the upgrade link in one call", async () => {
    const org = await newOrg({ tier: "starter" });
    const e = await entitlements(org, `?return_to=${encodeURIComponent("https://vexxy.example.com/settings")}`);
    const sub = await json(await call("/api/v1/billing/subscription", { token: org.token }));
    const credits = await json(await call("/api/v1/billing/credits", { token: org.token }));
    expect(e).toMatchObject({ organization_id: org.orgId, tier: "starter", status: "active", features: sub.features, premium_analysis_enabled: true, current_period_end: sub.current_period_end });
    expect(e.remaining).toEqual({ analyses: sub.monthly_analysis_limit - sub.current_period_analyses, credits: credits.available_credits });
    expect(e.can_submit).toMatchObject({ allowed: true, reason: null, error: null });
    const upgrade = new URL(e.upgrade_url);
    expect(upgrade.pathname).toBe("/billing/subscribe");
    expect(upgrade.searchParams.get("return_to")).toBe("https://vexxy.example.com/settings");
    // A return_to outside the allowed origins is dropped, not carried.
    expect(new URL((await entitlements(org, "?return_to=https%3A%2F%2Fevil.example")).upgrade_url).searchParams.has("return_to")).toBe(false);
  });

  it("agrees with the next submit when it allows, and counts the admission", async () => {
    const org = await newOrg({ tier: "starter" });
    const before = await agree(org, "?test_timeout=60", submission());
    const after = await entitlements(org);
    expect(after.remaining.analyses).toBe(before.remaining.analyses - 1);
    expect(after.remaining.credits).toBe(before.remaining.credits - before.can_submit.max_cost_credits);
  });

  it.each(["past_due", "unpaid", "canceled", "incomplete"] as const)("agrees with submit for a %s subscription (403, the page to fix it)", async (status) => {
    const org = await newOrg({ tier: "starter" });
    await org.ledger.changePlan({ orgId: org.orgId, opId: `status-${status}-${org.orgId}`, tier: "starter", status, reason: "test" });
    const e = await agree(org, "?test_timeout=60", submission());
    expect(e).toMatchObject({ status, premium_analysis_enabled: false, can_submit: { allowed: false, error: "FORBIDDEN" } });
    expect(e.can_submit.reason).toContain(`Subscription is ${status}`);
  });

  it("agrees with submit for a feature the tier lacks, judging the submission the query describes", async () => {
    const org = await newOrg({ tier: "starter" });
    const e = await agree(org, "?enable_fuzzing=true&test_timeout=60", submission({ config: { test_timeout: 60, enable_fuzzing: true, ports: [80] } }));
    expect(e.can_submit).toMatchObject({ allowed: false, error: "FORBIDDEN", details: { feature: "security_fuzzing" } });
    // The same organization may still submit without it.
    expect((await entitlements(org, "?test_timeout=60")).can_submit.allowed).toBe(true);
    // A profile resolves the same way as in submit: comprehensive fuzzes.
    expect((await entitlements(org, "?profile=comprehensive")).can_submit.details).toMatchObject({ feature: "security_fuzzing" });
  });

  it("agrees with submit when the monthly analyses are used up (429, retry after the period)", async () => {
    const org = await newOrg({ tier: "free", balance: 5000 });
    for (let i = 0; i < 10; i++) expect((await call("/api/v1/analysis/submit", { token: org.token, body: submission() })).status).toBe(201);
    const e = await agree(org, "?test_timeout=60", submission());
    expect(e.can_submit).toMatchObject({ allowed: false, error: "QUOTA_EXCEEDED", details: { quota_type: "monthly_analyses" } });
    expect(e.can_submit.retry_after_seconds).toBeGreaterThan(0);
    expect(e.remaining.analyses).toBe(0);
  });

  it("agrees with submit when credits do not cover the submission, and allows a cheaper one", async () => {
    const org = await newOrg({ tier: "starter", balance: 12 });
    const e = await agree(org, "?test_timeout=900", submission({ config: { test_timeout: 900, ports: [80] } }));
    expect(e.can_submit).toMatchObject({ allowed: false, error: "QUOTA_EXCEEDED", details: { quota_type: "credits", available: 12 } });
    await agree(org, "?test_timeout=60", submission());
  });

  it("refuses bad query values with the envelope", async () => {
    const org = await newOrg();
    for (const q of ["?test_timeout=5", "?enable_fuzzing=yes", "?profile=maximal"]) {
      const res = await call(`/api/v1/billing/entitlements${q}`, { token: org.token });
      expect(res.status, q).toBe(400);
      expect((await json(res)).error).toBe("VALIDATION_ERROR");
    }
    expect((await call("/api/v1/billing/entitlements")).status).toBe(401);
  });
});

import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, json } from "./support/http.js";
import { account, deliver, newOrg, submission } from "./support/orgs.js";

const COST = 11; // base 10 + 1 started 5-minute block of a 60 s test_timeout

describe("no overspend under concurrency", () => {
  it("admits exactly N of 200 parallel submissions when the balance covers exactly N", async () => {
    const N = 37;
    const org = await newOrg({ tier: "professional", balance: N * COST });
    const responses = await Promise.all(Array.from({ length: 200 }, () => call("/api/v1/analysis/submit", { token: org.token, body: submission() })));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(N);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - N);
    const refused = await json(responses.find((r) => r.status === 429)!);
    expect(refused.details).toMatchObject({ quota_type: "credits", required: COST, available: 0 });
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ balance: N * COST, held: N * COST, available: 0, current_period_analyses: N });
    await deliver(org.orgId);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n, SUM(max_cost) AS held FROM analysis_jobs WHERE organization_id = ?").bind(org.orgId).first<{ n: number; held: number }>();
    expect(rows).toEqual({ n: N, held: N * COST });
  });

  it("admits exactly the monthly analysis limit under parallel load", async () => {
    const org = await newOrg({ tier: "free" }); // 10 analyses, 100 credits: the analysis limit binds first at cost 11? no — credits bind at 9
    await org.ledger.credit({ orgId: org.orgId, opId: "more", credits: 1000, type: "operator_adjustment", description: "seed" });
    const responses = await Promise.all(Array.from({ length: 40 }, () => call("/api/v1/analysis/submit", { token: org.token, body: submission() })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = await json(responses.find((r) => r.status === 429)!);
    expect(refused.details).toEqual({ quota_type: "monthly_analyses", limit: 10, current: 10 });
    expect(refused.message).toBe("Monthly analysis limit reached (10/10)");
  });

  it("keeps every organization exact when many are hammered at once", async () => {
    const orgs = await Promise.all(Array.from({ length: 8 }, (_, i) => newOrg({ tier: "starter", balance: (i + 3) * COST })));
    const all = await Promise.all(
      orgs.flatMap((o) => Array.from({ length: 25 }, () => call("/api/v1/analysis/submit", { token: o.token, body: submission() }).then((r) => ({ o, status: r.status })))),
    );
    for (const [i, o] of orgs.entries()) {
      const admitted = all.filter((x) => x.o === o && x.status === 201).length;
      expect(admitted).toBe(i + 3);
      const acct = await account(o.orgId);
      expect(acct.available).toBe(0);
      expect(acct.current_period_analyses).toBe(i + 3);
    }
  });
});

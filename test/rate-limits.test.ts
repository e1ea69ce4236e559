/** Spec §12 rate limits on the Workers Rate Limiting binding: per organization, per client address, runner callbacks. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RATE_LIMITS } from "../src/middleware/rate-limit.js";
import { call, expectEnvelope } from "./support/http.js";
import { newOrg } from "./support/orgs.js";

async function expectRateLimited(res: Response, policy: string, limit: number, period: number) {
  const err = await expectEnvelope(res, 429, "QUOTA_EXCEEDED");
  expect(err.details).toMatchObject({ quota_type: "rate_limit", limit: policy, max_requests: limit, period_seconds: period });
  expect(res.headers.get("Retry-After")).toBe(String(period));
  expect(res.headers.get("RateLimit-Policy")).toBe(`"${policy}";q=${limit};w=${period}`);
  expect(res.headers.get("RateLimit")).toBe(`"${policy}";r=0;t=${period}`);
}

describe("rate limits", () => {
  it("state in their headers exactly what wrangler.toml configures", () => {
    const configured = JSON.parse((env as unknown as { TEST_WRANGLER_RATELIMITS: string }).TEST_WRANGLER_RATELIMITS);
    for (const rule of Object.values(RATE_LIMITS)) {
      expect(configured[rule.binding], rule.binding).toEqual({ limit: rule.limit, period: rule.periodSeconds });
    }
  });

  it("limit /api/v1/auth/* per client address, and other addresses are not affected", async () => {
    const { limit, periodSeconds, policy } = RATE_LIMITS.address;
    const from = (ip: string) => call("/api/v1/auth/login", { body: { email: "nobody@example.com" }, headers: { "CF-Connecting-IP": ip } });
    for (let i = 0; i < limit; i++) expect((await from("203.0.113.99")).status).toBe(400); // counted although invalid
    await expectRateLimited(await from("203.0.113.99"), policy, limit, periodSeconds);
    expect((await from("203.0.113.100")).status).toBe(400);
  });

  it("limit authenticated API calls per organization, whatever address they come from", async () => {
    const { limit, periodSeconds, policy } = RATE_LIMITS.organization;
    const org = await newOrg({ tier: "starter" });
    const other = await newOrg({ tier: "starter" });
    let served = 0;
    for (let i = 0; i < limit + 5; i++) {
      const res = await call("/api/v1/billing/usage", { token: org.token });
      if (res.status === 200) served++;
      else {
        await expectRateLimited(res, policy, limit, periodSeconds);
        break;
      }
    }
    // newOrg's own setup calls count too: the limit bites at or just before `limit` calls here.
    expect(served).toBeGreaterThan(limit - 10);
    expect(served).toBeLessThanOrEqual(limit);
    expect((await call("/api/v1/billing/usage", { token: other.token })).status).toBe(200);
  }, 60_000);
});

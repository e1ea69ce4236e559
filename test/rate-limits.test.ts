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

/**
 * Runs `attempt` (which only observes; assertions follow) until one run stays inside one rate-limit
 * window. Windows are aligned to the wall clock, so a run that crosses a boundary sees its count reset
 * halfway; the retry starts just after that boundary, with nearly a whole window ahead of it.
 */
async function inOneWindow<T>(periodSeconds: number, attempt: () => Promise<T>): Promise<T> {
  const window = () => Math.floor(Date.now() / (periodSeconds * 1000));
  for (let i = 0; i < 2; i++) {
    const started = window();
    const result = await attempt();
    if (window() === started) return result;
  }
  throw new Error("two attempts in a row crossed a rate-limit window boundary");
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
    const seen = await inOneWindow(periodSeconds, async () => {
      const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
      const statuses: number[] = [];
      for (let i = 0; i < limit; i++) statuses.push((await from(ip)).status);
      return { statuses, limited: await from(ip), other: (await from("198.51.100.7")).status };
    });
    expect(seen.statuses.every((s) => s === 400)).toBe(true); // counted although invalid
    await expectRateLimited(seen.limited, policy, limit, periodSeconds);
    expect(seen.other).toBe(400);
  });

  it("limit authenticated API calls per organization, whatever address they come from", async () => {
    const { limit, periodSeconds, policy } = RATE_LIMITS.organization;
    const seen = await inOneWindow(periodSeconds, async () => {
      const org = await newOrg({ tier: "starter" });
      const other = await newOrg({ tier: "starter" });
      let served = 0;
      let limited: Response | null = null;
      for (let i = 0; i < limit + 5 && !limited; i++) {
        const res = await call("/api/v1/billing/usage", { token: org.token });
        if (res.status === 200) served++;
        else limited = res;
      }
      return { served, limited, other: (await call("/api/v1/billing/usage", { token: other.token })).status };
    });
    expect(seen.limited).not.toBeNull();
    await expectRateLimited(seen.limited!, policy, limit, periodSeconds);
    // newOrg's own setup calls count too: the limit bites at or just before `limit` calls here.
    expect(seen.served).toBeGreaterThan(limit - 10);
    expect(seen.served).toBeLessThanOrEqual(limit);
    expect(seen.other).toBe(200);
  }, 120_000);
});

/**
 * Rate limits (spec §12) on the Workers Rate Limiting binding: per organization for authenticated
 * API calls, per client address for /api/v1/auth/* and the billing pages' forms, and a separate,
 * higher limit for the runner's callbacks. Over a limit: 429 QUOTA_EXCEEDED with
 * details.quota_type "rate_limit", Retry-After and the IETF RateLimit fields.
 *
 * The binding answers only "within the limit or not" and counts per Cloudflare location, so the
 * headers state the configured policy and the window as the wait (an upper bound). The numbers here
 * must match wrangler.toml's [[ratelimits]] (test/rate-limits.test.ts compares them).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { clientAddress } from "../lib/client-address.js";
import type { RateLimitPolicy } from "../lib/quota.js";
import { recordMetric } from "../services/metrics/events.js";

export const RATE_LIMITS = {
  organization: { binding: "RATE_LIMIT_ORGANIZATION", policy: "organization-api", limit: 1200, periodSeconds: 60 },
  address: { binding: "RATE_LIMIT_ADDRESS", policy: "client-address", limit: 60, periodSeconds: 60 },
  runner: { binding: "RATE_LIMIT_RUNNER", policy: "runner-callbacks", limit: 6000, periodSeconds: 60 },
} as const satisfies Record<string, { binding: keyof Env; policy: RateLimitPolicy; limit: number; periodSeconds: number }>;

export type RateLimitKind = keyof typeof RATE_LIMITS;

/** Counts one request against `kind` for `key`; throws the 429 when over. */
export async function enforceRateLimit(env: Env, kind: RateLimitKind, key: string): Promise<void> {
  const rule = RATE_LIMITS[kind];
  const binding = env[rule.binding] as RateLimit | undefined;
  if (!binding) return; // a deployment without the binding has no limit, as before §12
  const { success } = await binding.limit({ key: `${kind}:${key}` });
  if (success) return;
  await recordMetric(env, null, { kind: "quota_exceeded", orgId: kind === "organization" ? key : null, quotaType: "rate_limit" });
  throw new ApiError(
    "QUOTA_EXCEEDED",
    `Rate limit exceeded: at most ${rule.limit} requests per ${rule.periodSeconds} s (${rule.policy}); retry after ${rule.periodSeconds} s`,
    { quota_type: "rate_limit", limit: rule.policy, max_requests: rule.limit, period_seconds: rule.periodSeconds, retry_after_seconds: rule.periodSeconds },
    {
      retryAfterSeconds: rule.periodSeconds,
      quota: { policy: rule.policy, limit: rule.limit, remaining: 0, windowSeconds: rule.periodSeconds, resetSeconds: rule.periodSeconds },
    },
  );
}

/** A middleware limiting by client address (auth routes, page forms, runner callbacks). */
export const limitByAddress = (kind: "address" | "runner", methods: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"]) =>
  createMiddleware<AppEnv>(async (c: Context<AppEnv>, next) => {
    if (methods.includes(c.req.method)) await enforceRateLimit(c.env, kind, clientAddress(c.req.raw.headers));
    await next();
  });

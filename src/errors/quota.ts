/**
 * The IETF RateLimit-Policy / RateLimit fields of a quota: the one place those headers are spelled
 * (the error handler for refusals, the submit route for admissions).
 */
import type { QuotaState } from "../lib/quota.js";

export function quotaHeaders(q: QuotaState): Record<string, string> {
  return {
    "RateLimit-Policy": `"${q.policy}";q=${q.limit};w=${q.windowSeconds}`,
    RateLimit: `"${q.policy}";r=${q.remaining};t=${q.resetSeconds}`,
  };
}

/**
 * A quota as numbers: `limit` per `windowSeconds`, `remaining` now, resetting in `resetSeconds`.
 * The ledger reports it; the HTTP edge spells it as the IETF RateLimit fields (errors/quota.ts).
 */
/** The request-rate policies (middleware/rate-limit.ts). */
export type RateLimitPolicy = "organization-api" | "client-address" | "runner-callbacks";

export interface QuotaState {
  policy: "monthly-analyses" | RateLimitPolicy;
  limit: number;
  remaining: number;
  windowSeconds: number;
  resetSeconds: number;
}

/**
 * A quota as numbers: `limit` per `windowSeconds`, `remaining` now, resetting in `resetSeconds`.
 * The ledger reports it; the HTTP edge spells it as the IETF RateLimit fields (errors/quota.ts).
 */
export interface QuotaState {
  policy: "monthly-analyses";
  limit: number;
  remaining: number;
  windowSeconds: number;
  resetSeconds: number;
}

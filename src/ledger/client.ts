/** How the Worker reaches an organization's ledger object. */
import type { OrgLedger } from "./durable_object.js";
import { ApiError } from "../errors/api-error.js";
import type { Refusal } from "./interface.js";

export type LedgerStub = DurableObjectStub<OrgLedger>;

export function ledgerFor(env: Env, orgId: string): LedgerStub {
  const ns = env.LEDGER as unknown as DurableObjectNamespace<OrgLedger>;
  return ns.get(ns.idFromName(orgId));
}

/** A ledger refusal as the spec's error (403 / 409 / 429); the error handler adds Retry-After and RateLimit. */
export function refusalError(r: Refusal): ApiError {
  return new ApiError(r.code, r.message, r.details, {
    ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}),
    ...(r.quota ? { quota: r.quota } : {}),
  });
}

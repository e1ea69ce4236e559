import { ApiError } from "../../errors/api-error.js";
import { ledgerFor } from "../../ledger/client.js";
import type { AccountView, CreditResult, LedgerEntry } from "../../ledger/interface.js";
import type { SubscriptionStatus, TierName } from "../../lib/tiers.js";

/** Every entry of the organization's ledger, in order (support). */
export async function listLedgerEntries({ env, orgId }: { env: Env; orgId: string }): Promise<LedgerEntry[]> {
  return (await ledgerFor(env, orgId).entries(orgId)) as LedgerEntry[];
}

/** An operator's credit adjustment, exactly once per request id; an overdraft is a 409. */
export async function adjustCredits({
  env,
  orgId,
  requestId,
  credits,
  pool,
  reason,
}: {
  env: Env;
  orgId: string;
  requestId: string;
  credits: number;
  pool: "grant" | "purchased";
  reason: string;
}): Promise<CreditResult> {
  const r = (await ledgerFor(env, orgId).credit({
    orgId,
    opId: `ops:${requestId}`,
    credits,
    type: "operator_adjustment",
    pool,
    description: `Operator adjustment ${credits > 0 ? "+" : ""}${credits} ${pool} credits: ${reason}`,
  })) as CreditResult;
  if (r.refused) throw new ApiError("RESOURCE_CONFLICT", r.refused);
  return r;
}

/** An operator's tier / status change, optionally starting a new period now. */
export async function changePlanByOperator({
  env,
  orgId,
  requestId,
  tier,
  status,
  reason,
  newPeriod,
}: {
  env: Env;
  orgId: string;
  requestId: string;
  tier: TierName;
  status: SubscriptionStatus;
  reason: string;
  newPeriod: boolean;
}): Promise<{ applied: boolean; account: AccountView }> {
  return (await ledgerFor(env, orgId).changePlan({
    orgId,
    opId: `ops:${requestId}`,
    tier,
    status,
    reason: `operator: ${reason}`,
    ...(newPeriod ? { periodStart: new Date().toISOString() } : {}),
  })) as { applied: boolean; account: AccountView };
}

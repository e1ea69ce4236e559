/**
 * The admission rules, pure: status, features, monthly quota, credits — in that order. The ledger
 * object applies them atomically; quotes call the same function on a snapshot.
 */
import type { JobFeatures, QuotaState, Refusal } from "./interface.js";
import { getTier, lowestTierWith, tierHas, type SubscriptionStatus, type TierName } from "../lib/tiers.js";
import { totalCost } from "../lib/cost.js";

export interface AdmissionState {
  tier: TierName;
  status: SubscriptionStatus;
  periodStart: number;
  periodEnd: number;
  periodAnalyses: number;
  balance: number;
  held: number;
}

export type AdmissionDecision = { ok: true; maxCost: number; hold: number } | { ok: false; refusal: Refusal };

const ACTIVE: ReadonlySet<string> = new Set(["active", "trialing"]);

/** Whether a subscription in this status may start analyses at all (the admission's first rule). */
export const analysesAllowed = (status: SubscriptionStatus): boolean => ACTIVE.has(status);

export function decideAdmission(s: AdmissionState, features: JobFeatures, testTimeoutSeconds: number, now: number): AdmissionDecision {
  if (!analysesAllowed(s.status)) {
    const why =
      s.status === "past_due" || s.status === "unpaid"
        ? "the last payment failed; update the payment method in the billing portal (/billing/portal)"
        : "reactivate the subscription at /billing/subscribe";
    return refuse("FORBIDDEN", `Subscription is ${s.status}: new analyses are not allowed — ${why}`, { subscription_status: s.status });
  }
  if (features.fuzzing && !tierHas(s.tier, "security_fuzzing")) {
    const needed = lowestTierWith("security_fuzzing");
    return refuse("FORBIDDEN", `Security fuzzing requires the ${needed} tier or higher (current tier: ${s.tier})`, {
      feature: "security_fuzzing",
      required_tier: needed,
      current_tier: s.tier,
    });
  }
  const tier = getTier(s.tier);
  const resetSeconds = Math.max(1, Math.ceil((s.periodEnd - now) / 1000));
  if (tier.monthly_analysis_limit !== null && s.periodAnalyses >= tier.monthly_analysis_limit) {
    return refuse(
      "QUOTA_EXCEEDED",
      `Monthly analysis limit reached (${s.periodAnalyses}/${tier.monthly_analysis_limit})`,
      { quota_type: "monthly_analyses", limit: tier.monthly_analysis_limit, current: s.periodAnalyses },
      { retryAfterSeconds: resetSeconds, ...optional("quota", quotaState(s, 0, now)) },
    );
  }
  const maxCost = totalCost({ ...features, seconds: testTimeoutSeconds });
  if (tier.monthly_credit_limit === null) return { ok: true, maxCost, hold: 0 };
  const available = s.balance - s.held;
  if (maxCost > available) {
    return refuse(
      "QUOTA_EXCEEDED",
      `Insufficient credits: this analysis may cost up to ${maxCost} credits, ${available} available`,
      { quota_type: "credits", required: maxCost, available, current_balance: s.balance, held: s.held },
      { retryAfterSeconds: resetSeconds },
    );
  }
  return { ok: true, maxCost, hold: maxCost };
}

/** The monthly analyses quota as numbers (null when the tier is unlimited). */
export function quotaState(s: AdmissionState, remaining: number, now: number): QuotaState | null {
  const limit = getTier(s.tier).monthly_analysis_limit;
  if (limit === null) return null;
  return {
    policy: "monthly-analyses",
    limit,
    remaining: Math.max(0, remaining),
    windowSeconds: Math.max(1, Math.round((s.periodEnd - s.periodStart) / 1000)),
    resetSeconds: Math.max(1, Math.ceil((s.periodEnd - now) / 1000)),
  };
}

function refuse(code: Refusal["code"], message: string, details: Record<string, unknown>, extra: Pick<Refusal, "retryAfterSeconds" | "quota"> = {}): AdmissionDecision {
  return { ok: false, refusal: { code, message, details, ...extra } };
}

function optional<K extends string, V>(key: K, v: V | null): { [k in K]?: V } {
  return (v === null ? {} : { [key]: v }) as { [k in K]?: V };
}

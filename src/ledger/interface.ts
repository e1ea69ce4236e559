/**
 * The per-organization ledger's public contract: what the Worker may ask of an organization's
 * Durable Object. Results are plain data (RPC-serialisable); refusals are values, not exceptions,
 * so the route can map them to the spec's envelope exactly.
 */
import type { TierName, SubscriptionStatus, Feature } from "../lib/tiers.js";
import type { AdmittedJob } from "../db/jobs.js";
import type { QuotaState } from "../lib/quota.js";

const ENTRY_TYPES = [
  "plan_grant",
  "grant_expired",
  "credit_purchased",
  "hold_placed",
  "hold_released",
  "analysis_completed",
  "analysis_cancelled",
  "operator_adjustment",
  "plan_changed",
  "credit_purchase_failed",
  "credit_reversed",
] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** One immutable ledger entry. `amount` changes the balance; `held` changes the active holds. */
export interface LedgerEntry {
  id: string;
  seq: number;
  type: EntryType;
  amount: number;
  grant_amount: number;
  purchased_amount: number;
  held_amount: number;
  balance_after: number;
  held_after: number;
  job_id: string | null;
  stripe_event_id: string | null;
  stripe_object_id: string | null;
  description: string;
  created_at: string;
}

export interface AccountView {
  organization_id: string;
  subscription_id: string;
  tier: TierName;
  status: SubscriptionStatus;
  monthly_analysis_limit: number | null;
  monthly_credit_limit: number | null;
  current_period_analyses: number;
  current_period_credits_used: number;
  current_period_start: string;
  current_period_end: string;
  trial_end: string | null;
  cancel_at_period_end: boolean;
  /** When the subscription ends and the organization returns to the free tier (cancel at period end), else null. */
  cancel_at: string | null;
  /** A tier change scheduled for later (a downgrade at the period's end) and when it takes effect, else null. */
  pending_tier: TierName | null;
  pending_tier_at: string | null;
  stripe_subscription_id: string | null;
  created_at: string;
  /** Plan grant left + purchased credits (the spec's credit_balance). */
  balance: number;
  grant_remaining: number;
  purchased_balance: number;
  /** Credits reserved by admitted jobs that have not settled. */
  held: number;
  available: number;
  version: number;
}

export interface JobFeatures {
  fuzzing: boolean;
  profiling: boolean;
  code_coverage: boolean;
}

export interface AdmitRequest {
  orgId: string;
  jobId: string;
  features: JobFeatures;
  testTimeoutSeconds: number;
  idempotencyKey?: string;
  /** SHA-256 of the canonical request body; a reused key with another body is refused. */
  requestHash?: string;
  /**
   * The job to create when admitted: recorded in the same transaction as the hold, then delivered
   * by the object to D1 and the dispatch queue right after the commit.
   */
  job?: AdmittedJob;
}

export type { QuotaState };

export interface Refusal {
  code: "FORBIDDEN" | "QUOTA_EXCEEDED" | "RESOURCE_CONFLICT";
  message: string;
  details: Record<string, unknown>;
  /** When asking again can succeed (a quota refusal: the period's end). */
  retryAfterSeconds?: number;
  quota?: QuotaState;
}

export type AdmitResult =
  | {
      ok: true;
      replay: boolean;
      jobId: string;
      /** The hold placed (the job's max_cost; 0 on unmetered plans). */
      hold: number;
      /** Whether the tier at admission unlocks runtime verdicts (new admissions only). */
      verdicts?: boolean;
      /** The monthly-analyses quota after this admission (absent when unlimited). */
      quota?: QuotaState;
    }
  | { ok: false; refusal: Refusal };

export interface SettleRequest {
  orgId: string;
  jobId: string;
  /** Actual cost; clamped to the hold (a job never pays more than it was admitted for). */
  cost: number;
  outcome: "completed" | "cancelled";
  description: string;
}

export interface VoidRequest {
  orgId: string;
  jobId: string;
  reason: string;
  /** Give the analysis back to the monthly quota too (the job never ran through no fault of the user). */
  refundAnalysis: boolean;
}

type HoldState = "pending" | "settled" | "voided";

export interface HoldOutcome {
  jobId: string;
  state: HoldState;
  /** Credits posted (settled) or 0 (voided). */
  posted: number;
  /** True when this call changed nothing (already settled or voided). */
  replay: boolean;
}

export interface CreditRequest {
  orgId: string;
  /** Client-chosen id that makes the credit exactly-once (a Stripe event or payment id, an operator request id). */
  opId: string;
  credits: number;
  type: "credit_purchased" | "operator_adjustment";
  /** Which pool an operator adjustment touches; purchases always go to purchased credits. */
  pool?: "purchased" | "grant";
  description: string;
  stripeEventId?: string;
  stripeObjectId?: string;
}

/** A billing event that moves no credits (a failed credit-pack payment), recorded exactly once per opId. */
export interface RecordRequest {
  orgId: string;
  opId: string;
  type: "credit_purchase_failed";
  description: string;
  stripeEventId?: string;
  stripeObjectId?: string;
}

/**
 * A credit pack's charge was refunded or disputed: take back what the refunded or disputed amount stands
 * for, as far as it is unspent — never below zero, never below what running analyses hold — and record
 * what could not be taken back. `credits` is cumulative for the charge (what all its refunds, or its
 * dispute, stand for), so repeated and reordered events take back only what is still owed.
 */
export interface ReversalRequest {
  orgId: string;
  /** Exactly once per opId (the Stripe event). */
  opId: string;
  paymentIntentId: string;
  chargeId: string;
  credits: number;
  /** What happened, for the entry ("Refund of charge ch_…"). */
  what: string;
  stripeEventId?: string;
}

export interface ReversalResult {
  applied: boolean;
  /** Credits taken back by this call. */
  taken: number;
  /** Credits owed by this call that could not be taken back (spent, or held by running analyses). */
  shortfall: number;
  account: AccountView;
}

export interface CreditResult {
  /** False for a replayed opId, and for a refusal. */
  applied: boolean;
  account: AccountView;
  /** Why an operator adjustment was refused (it would overdraw a pool or leave holds uncovered). */
  refused?: string;
}

export interface PlanChange {
  orgId: string;
  opId: string;
  tier: TierName;
  status: SubscriptionStatus;
  /** A new billing period starts (Stripe invoice paid, or a period boundary): rollover + fresh grant. */
  periodStart?: string;
  periodEnd?: string;
  trialEnd?: string | null;
  cancelAtPeriodEnd?: boolean;
  /** A tier change scheduled for later (Stripe: the subscription schedule's next phase); null: none. Absent: unchanged. */
  pendingChange?: { tier: TierName; at: string } | null;
  stripeSubscriptionId?: string | null;
  /** Ordering key for out-of-order deliveries: a change older than the last applied one is ignored. */
  sourceTimestamp?: number;
  /**
   * The invoice that pays for the plan as it stands (Stripe: the subscription's latest invoice). The plan
   * grant follows its payment: while it is unpaid a new period starts without its grant and an upgrade's
   * extra grant waits; the first change that finds it paid posts them, naming it. Absent (operators, a
   * subscription without invoices): paid.
   */
  invoice?: { id: string; paid: boolean };
  reason: string;
  stripeEventId?: string;
  /** The Stripe object behind the change (subscription or invoice id). */
  stripeObjectId?: string;
}


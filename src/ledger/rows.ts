/**
 * The ledger object's stored rows and how they read as the public views (interface.ts). Pure.
 */
import type { AccountView, EntryType, LedgerEntry } from "./interface.js";
import { getTier, type SubscriptionStatus, type TierName } from "../lib/tiers.js";
import { iso } from "../lib/time.js";

export type AccountRow = {
  organization_id: string;
  subscription_id: string;
  tier: TierName;
  status: SubscriptionStatus;
  period_anchor: number;
  period_index: number;
  period_start: number;
  period_end: number;
  stripe_managed: number;
  period_analyses: number;
  period_credits_used: number;
  grant_remaining: number;
  purchased_balance: number;
  held: number;
  trial_end: number | null;
  cancel_at_period_end: number;
  stripe_subscription_id: string | null;
  /** The tier whose monthly grant the current period has received; null while its invoice is unpaid. */
  grant_tier: TierName | null;
  pending_tier: TierName | null;
  pending_at: number | null;
  plan_source_ts: number;
  version: number;
  created_at: number;
};

export type EntryRow = {
  seq: number;
  id: string;
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
  created_at: number;
};

export type HoldRow = { job_id: string; amount: number; state: "pending" | "settled" | "voided"; period_index: number; placed_at: number; posted: number };

export function balanceOf(a: { grant_remaining: number; purchased_balance: number }): number {
  return a.grant_remaining + a.purchased_balance;
}

export function accountView(a: AccountRow): AccountView {
  const tier = getTier(a.tier);
  const balance = balanceOf(a);
  return {
    organization_id: a.organization_id,
    subscription_id: a.subscription_id,
    tier: a.tier,
    status: a.status,
    monthly_analysis_limit: tier.monthly_analysis_limit,
    monthly_credit_limit: tier.monthly_credit_limit,
    current_period_analyses: a.period_analyses,
    current_period_credits_used: a.period_credits_used,
    current_period_start: iso(a.period_start),
    current_period_end: iso(a.period_end),
    trial_end: a.trial_end === null ? null : iso(a.trial_end),
    cancel_at_period_end: a.cancel_at_period_end === 1,
    cancel_at: a.cancel_at_period_end === 1 ? iso(a.period_end) : null,
    pending_tier: a.pending_tier,
    pending_tier_at: a.pending_at === null ? null : iso(a.pending_at),
    stripe_subscription_id: a.stripe_subscription_id,
    created_at: iso(a.created_at),
    balance,
    grant_remaining: a.grant_remaining,
    purchased_balance: a.purchased_balance,
    held: a.held,
    available: balance - a.held,
    version: a.version,
  };
}

export function entryView(r: EntryRow): LedgerEntry {
  return {
    id: r.id,
    seq: r.seq,
    type: r.type,
    amount: r.amount,
    grant_amount: r.grant_amount,
    purchased_amount: r.purchased_amount,
    held_amount: r.held_amount,
    balance_after: r.balance_after,
    held_after: r.held_after,
    job_id: r.job_id,
    stripe_event_id: r.stripe_event_id,
    stripe_object_id: r.stripe_object_id,
    description: r.description,
    created_at: iso(r.created_at),
  };
}

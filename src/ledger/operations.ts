/**
 * What each ledger operation does inside its transaction, on the object's storage: admission,
 * settlement, credits and plan changes. The Durable Object (durable_object.ts) runs each in one
 * synchronous transaction and schedules its alarm; the rules are admission.ts, the arithmetic
 * balance.ts.
 */
import type { AdmitRequest, AdmitResult, CreditRequest, CreditResult, HoldOutcome, PlanChange, RecordRequest, ReversalRequest, ReversalResult, SettleRequest, AccountView } from "./interface.js";
import { getTier, tierHas, type TierName } from "../lib/tiers.js";
import { addMonthsUtc, iso } from "../lib/time.js";
import { decideAdmission, quotaState, type AdmissionState } from "./admission.js";
import { planChangeGrantDelta, settlementParts } from "./balance.js";
import { accountView, balanceOf, type AccountRow } from "./rows.js";
import type { LedgerStore } from "./store.js";

/** How long past its test_timeout a hold may stay pending before the alarm voids it. */
const HOLD_MARGIN_MS = 2 * 3600_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** Status, features, monthly quota, credits — in that order — then count, hold, entry and job. */
export function admit(s: LedgerStore, req: AdmitRequest, now: number): AdmitResult {
  const acct = s.ensure(req.orgId);
  if (req.idempotencyKey) {
    const prior = s.idempotency(req.idempotencyKey);
    if (prior && prior.request_hash !== req.requestHash) {
      const details = { idempotency_key: req.idempotencyKey };
      return { ok: false, refusal: { code: "RESOURCE_CONFLICT", message: "Idempotency-Key was already used with a different request body", details } };
    }
    if (prior) return { ok: true, replay: true, jobId: prior.job_id, hold: s.hold(prior.job_id)?.amount ?? 0 };
  }
  const existing = s.hold(req.jobId);
  if (existing) return { ok: true, replay: true, jobId: req.jobId, hold: existing.amount };
  const decision = decideAdmission(admissionState(acct), req.features, req.testTimeoutSeconds, now);
  if (!decision.ok) return { ok: false, refusal: decision.refusal };
  const hold = decision.hold;
  const metered = getTier(acct.tier).monthly_credit_limit !== null;
  const verdicts = tierHas(acct.tier, "reachability_analysis");
  s.placeHold(req.jobId, hold, acct.period_index, now + req.testTimeoutSeconds * 1000 + HOLD_MARGIN_MS);
  const { account: after, entry } = s.post({ ...acct, period_analyses: acct.period_analyses + 1 }, {
    type: "hold_placed",
    grant: 0,
    purchased: 0,
    held: hold,
    jobId: req.jobId,
    description: metered ? `Held ${hold} credits for analysis job ${req.jobId} (its maximum cost)` : `Analysis job ${req.jobId} admitted (unmetered plan: nothing held)`,
  });
  if (req.idempotencyKey) s.rememberIdempotency(req.idempotencyKey, req.requestHash ?? "", req.jobId, IDEMPOTENCY_TTL_MS);
  if (req.job) {
    if (req.job.id !== req.jobId || req.job.organizationId !== req.orgId) throw new Error("job record does not match the admission");
    s.addJob(entry.seq, { ...req.job, maxCost: hold, reachabilityVerdicts: verdicts });
  }
  const limit = getTier(after.tier).monthly_analysis_limit ?? 0;
  const quota = quotaState(admissionState(after), limit - after.period_analyses, now);
  return { ok: true, replay: false, jobId: req.jobId, hold, verdicts, ...(quota ? { quota } : {}) };
}

/** Posts the actual cost (≤ the hold) and releases the rest. Idempotent by job id. */
export function settle(s: LedgerStore, req: SettleRequest): HoldOutcome {
  const acct = s.ensure(req.orgId);
  const hold = s.hold(req.jobId);
  if (!hold) throw new Error(`no hold for job ${req.jobId}`);
  if (hold.state !== "pending") return { jobId: req.jobId, state: hold.state, posted: hold.posted, replay: true };
  const metered = getTier(acct.tier).monthly_credit_limit !== null || hold.amount > 0;
  const { cost, grant, purchased } = settlementParts(req.cost, hold.amount, acct.grant_remaining, metered);
  s.settleHold(req.jobId, metered ? cost : 0);
  s.addCreditsUsed(cost);
  s.post(s.account()!, {
    type: req.outcome === "completed" ? "analysis_completed" : "analysis_cancelled",
    grant: -grant,
    purchased: -purchased,
    held: -hold.amount,
    jobId: req.jobId,
    description: metered
      ? `${req.description}: cost ${cost} credits (${grant} from plan grant, ${purchased} purchased); released ${hold.amount - cost} of ${hold.amount} held`
      : `${req.description}: cost ${cost} credits (unmetered plan, usage recorded)`,
  });
  return { jobId: req.jobId, state: "settled", posted: metered ? cost : 0, replay: false };
}

/**
 * Purchased credits (credit packs) or an operator adjustment, exactly once per opId. An adjustment
 * that would overdraw is refused (an answer, not an exception) and leaves the opId unused.
 */
export function credit(s: LedgerStore, req: CreditRequest): CreditResult {
  const acct = s.ensure(req.orgId);
  if (s.opApplied(req.opId)) return { applied: false, account: accountView(acct) };
  const amount = Math.trunc(req.credits);
  const pool = req.type === "credit_purchased" ? "purchased" : (req.pool ?? "purchased");
  const current = pool === "grant" ? acct.grant_remaining : acct.purchased_balance;
  if (amount < 0 && (current + amount < 0 || balanceOf(acct) + amount < acct.held)) {
    return { applied: false, account: accountView(acct), refused: `adjustment of ${amount} would overdraw the ${pool} credits (${current}, ${acct.held} held)` };
  }
  s.claimOp(req.opId);
  const ids = { stripeEventId: req.stripeEventId ?? null, stripeObjectId: req.stripeObjectId ?? null };
  s.post(acct, { type: req.type, grant: pool === "grant" ? amount : 0, purchased: pool === "purchased" ? amount : 0, held: 0, opId: req.opId, ...ids, description: req.description });
  return { applied: true, account: accountView(s.account()!) };
}

/**
 * Takes back a refunded or disputed pack's credits (ReversalRequest): what the charge now stands for,
 * at most what the pack credited, less what earlier events of the charge accounted for; of that, what
 * the purchased credits hold beyond running analyses' holds. The rest is recorded as not taken back
 * (and counted as accounted, so a later event does not take it from other purchases).
 */
export function reverseCredits(s: LedgerStore, req: ReversalRequest): ReversalResult {
  const acct = s.ensure(req.orgId);
  if (!s.claimOp(req.opId)) return { applied: false, taken: 0, shortfall: 0, account: accountView(acct) };
  const credited = s.purchasedByOp(`credit_pack:${req.paymentIntentId}`);
  const accounted = s.reversalAccounted(req.chargeId);
  const owed = Math.min(Math.max(0, Math.trunc(req.credits)), credited) - accounted;
  if (owed <= 0) return { applied: true, taken: 0, shortfall: 0, account: accountView(acct) };
  const available = Math.max(0, Math.min(acct.purchased_balance, balanceOf(acct) - acct.held));
  const taken = Math.min(owed, available);
  const shortfall = owed - taken;
  s.setReversalAccounted(req.chargeId, req.paymentIntentId, accounted + owed);
  const rest = shortfall ? `; ${shortfall} could not be taken back (already spent or held by running analyses)` : "";
  s.post(acct, {
    type: "credit_reversed",
    grant: 0,
    purchased: -taken,
    held: 0,
    opId: req.opId,
    stripeEventId: req.stripeEventId ?? null,
    stripeObjectId: req.chargeId,
    description: `${req.what} (credit pack paid by ${req.paymentIntentId}): took back ${taken} of ${owed} credits${rest}`,
  });
  return { applied: true, taken, shortfall, account: accountView(s.account()!) };
}

/** A billing event that moves no credits, exactly once per opId. */
export function record(s: LedgerStore, req: RecordRequest): { applied: boolean } {
  s.ensure(req.orgId);
  if (!s.claimOp(req.opId)) return { applied: false };
  const ids = { stripeEventId: req.stripeEventId ?? null, stripeObjectId: req.stripeObjectId ?? null };
  s.post(s.account()!, { type: req.type, grant: 0, purchased: 0, held: 0, opId: req.opId, ...ids, description: req.description });
  return { applied: true };
}

/**
 * Changes tier / status / period (Stripe webhooks, operators). A change older than the last one
 * applied (by sourceTimestamp) is ignored, so out-of-order deliveries converge. A new periodStart
 * rolls the period over; a tier change mid-period moves the grant by the plans' difference. The
 * grant follows payment (`req.invoice`): a period whose invoice is unpaid starts without it, and an
 * upgrade's difference waits for the invoice too; a downgrade's is taken at once. What the period has
 * been granted is the account's grant_tier, so a grant is posted once however often the paid state is
 * reported, and in whatever order.
 */
export function changePlan(s: LedgerStore, req: PlanChange): { applied: boolean; account: AccountView } {
  let acct = s.ensure(req.orgId);
  if (!s.claimOp(req.opId) || (req.sourceTimestamp !== undefined && req.sourceTimestamp < acct.plan_source_ts)) {
    return { applied: false, account: accountView(acct) };
  }
  const old = { tier: acct.tier, status: acct.status };
  const ids = { stripeEventId: req.stripeEventId ?? null, stripeObjectId: req.stripeObjectId ?? null };
  const paid = req.invoice?.paid ?? true;
  const paidNote = req.invoice ? `; invoice ${req.invoice.id} paid` : "";
  const grantIds = { ...ids, stripeObjectId: req.invoice?.id ?? ids.stripeObjectId };
  const stripeManaged = req.stripeSubscriptionId !== undefined ? (req.stripeSubscriptionId ? 1 : 0) : acct.stripe_managed;
  acct = s.updatePlan(acct, req, stripeManaged);
  const newStart = req.periodStart ? Date.parse(req.periodStart) : null;
  const newEnd = req.periodEnd ? Date.parse(req.periodEnd) : null;
  if (newStart !== null && newStart !== acct.period_start) {
    const grant = paid ? { stripeObjectId: grantIds.stripeObjectId, note: paidNote } : null;
    s.startPeriod(acct, newStart, newEnd ?? addMonthsUtc(newStart, 1), req.reason, stripeManaged ? newStart : null, ids, grant);
  } else {
    if (newEnd !== null && newEnd !== acct.period_end) s.setPeriodEnd(newEnd);
    const period = `${iso(acct.period_start)} – ${iso(newEnd ?? acct.period_end)}`;
    const monthly = (t: TierName | null) => (t === null ? 0 : (getTier(t).monthly_credit_limit ?? 0));
    const granted = acct.grant_tier;
    // What moving the grant from what the period has had to what the tier gives would post now.
    const delta = granted === null ? null : planChangeGrantDelta(monthly(granted), monthly(req.tier), acct);
    const moveNow = delta !== null && delta !== 0 && (delta < 0 || paid);
    if (old.tier !== req.tier) {
      const waits = delta !== null && delta > 0 && !paid;
      if (moveNow || delta === 0) s.setGrantTier(req.tier);
      const grantText =
        granted === null
          ? paid
            ? `the ${req.tier} tier's monthly grant is posted`
            : "the period's grant follows its invoice's payment"
          : waits ? `plan grant +${delta} once the invoice is paid` : `plan grant ${delta! >= 0 ? "+" : ""}${moveNow ? delta : 0}`;
      const description = `Plan changed from ${old.tier} to ${req.tier} (${req.reason}); ${grantText}`;
      s.post(s.account()!, { type: "plan_changed", grant: moveNow ? delta! : 0, purchased: 0, held: 0, opId: req.opId, ...(moveNow ? grantIds : ids), description });
      if (granted === null && paid) s.postGrant(req.tier, grantIds, `${period}${paidNote}`);
    } else if (granted === null && paid) {
      // The period's invoice was paid after the period began (a retried payment, or events out of order).
      s.postGrant(req.tier, grantIds, `${period}${paidNote}`);
    } else if (moveNow) {
      // An upgrade whose invoice was open when the tier changed, paid now.
      s.setGrantTier(req.tier);
      const description = `Plan grant for the upgrade from ${granted} to ${req.tier} (${req.reason}${paidNote}): +${delta}`;
      s.post(s.account()!, { type: "plan_grant", grant: delta!, purchased: 0, held: 0, opId: req.opId, ...grantIds, description });
    } else if (old.status !== req.status) {
      // A status change alone moves no credits, but it is an effect worth a line in the history.
      const description = `Subscription status changed from ${old.status} to ${req.status} (${req.reason})`;
      s.post(s.account()!, { type: "plan_changed", grant: 0, purchased: 0, held: 0, opId: req.opId, ...ids, description });
    }
  }
  s.bumpVersion();
  return { applied: true, account: accountView(s.account()!) };
}

export function admissionState(a: AccountRow): AdmissionState {
  return {
    tier: a.tier,
    status: a.status,
    periodStart: a.period_start,
    periodEnd: a.period_end,
    periodAnalyses: a.period_analyses,
    balance: balanceOf(a),
    held: a.held,
  };
}

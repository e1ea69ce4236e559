/**
 * The ledger object's storage: every SQL statement it runs on its own SQLite, synchronous, meant to
 * be called inside `transactionSync`. The arithmetic is in balance.ts, the views in rows.ts; this
 * file is where entries are appended, holds and periods recorded, and the outbox kept.
 */
import type { LedgerEntry, PlanChange } from "./interface.js";
import type { NewJobRecord } from "../db/jobs.js";
import { getTier, type TierName } from "../lib/tiers.js";
import { addMonthsUtc, iso } from "../lib/time.js";
import { applyEntry, grantReserved, type EntryInput } from "./balance.js";
import { type AccountRow, type EntryRow, type HoldRow } from "./rows.js";
import { LEDGER_SCHEMA, LEDGER_SCHEMA_VERSION, ledgerUpgrades } from "./sql.js";

/** `entries.mirrored`: 0 until the entry is in D1 `billing_events`, then 1. */
const UNDELIVERED = 0;
const DELIVERED = 1;

export class LedgerStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number,
  ) {}

  /** Brings the schema to the current version (one read when it already is). */
  migrate(transaction: (fn: () => void) => void): void {
    let version: number | null = null;
    try {
      version = this.sql.exec<{ version: number }>("SELECT version FROM ledger_schema").one().version;
    } catch {
      // no such table yet
    }
    if (version !== null && version >= LEDGER_SCHEMA_VERSION) return;
    const definitionOf = (table: string) =>
      this.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray()[0]?.sql ?? null;
    transaction(() => {
      for (const stmt of ledgerUpgrades(definitionOf)) this.sql.exec(stmt);
      for (const stmt of LEDGER_SCHEMA) this.sql.exec(stmt);
    });
  }

  account(): AccountRow | null {
    return this.sql.exec<AccountRow>("SELECT * FROM account WHERE id = 1").toArray()[0] ?? null;
  }

  /** The account, created on first use (free tier, monthly periods from now), rolled over if due. */
  ensure(orgId: string): AccountRow {
    let acct = this.account();
    if (acct && acct.organization_id !== orgId) throw new Error("ledger object addressed with the wrong organization id");
    if (!acct) {
      const now = this.now();
      const free = getTier("free");
      this.sql.exec(
        `INSERT INTO account (id, organization_id, subscription_id, tier, status, period_anchor, period_index, period_start,
           period_end, grant_tier, created_at) VALUES (1, ?, ?, 'free', 'active', ?, 0, ?, ?, 'free', ?)`,
        orgId,
        crypto.randomUUID(),
        now,
        now,
        addMonthsUtc(now, 1),
        now,
      );
      this.post(this.account()!, {
        type: "plan_grant",
        grant: free.monthly_credit_limit ?? 0,
        purchased: 0,
        held: 0,
        description: `Monthly plan grant: ${free.monthly_credit_limit} credits (free tier)`,
      });
      acct = this.account()!;
    }
    if (this.now() >= acct.period_end && !acct.stripe_managed) {
      this.rolloverIfDue(acct);
      acct = this.account()!;
    }
    return acct;
  }

  /** Self-managed (non-Stripe) periods roll monthly from their anchor; Stripe periods come from Stripe. */
  rolloverIfDue(acct: AccountRow): void {
    const now = this.now();
    if (acct.stripe_managed || now < acct.period_end) return;
    let index = acct.period_index;
    while (addMonthsUtc(acct.period_anchor, index + 1) <= now) index++;
    this.sql.exec("UPDATE account SET period_index = ? WHERE id = 1", index);
    this.startPeriod(this.account()!, addMonthsUtc(acct.period_anchor, index), addMonthsUtc(acct.period_anchor, index + 1), "billing period ended", null);
  }

  /**
   * Starts a billing period: the unspent grant expires — except what in-flight holds need beyond the
   * purchased credits, carried until they settle (so holds never exceed the balance) — the counters
   * reset and, when `grant` says so, the tier's monthly grant is posted. A Stripe period whose invoice
   * is not paid yet starts without it (`grant` = null and a line saying so); the grant follows the payment.
   */
  startPeriod(
    acct: AccountRow,
    start: number,
    end: number,
    reason: string,
    newAnchor: number | null,
    stripeIds: { stripeEventId: string | null; stripeObjectId: string | null } = { stripeEventId: null, stripeObjectId: null },
    grant: { stripeObjectId: string | null; note: string } | null = { stripeObjectId: stripeIds.stripeObjectId, note: "" },
  ): void {
    const carry = grantReserved(acct);
    const expire = acct.grant_remaining - carry;
    this.sql.exec("UPDATE account SET period_start = ?, period_end = ?, period_analyses = 0, period_credits_used = 0 WHERE id = 1", start, end);
    if (newAnchor !== null) this.sql.exec("UPDATE account SET period_anchor = ?, period_index = 0 WHERE id = 1", newAnchor);
    if (expire > 0) {
      this.post(this.account()!, {
        type: "grant_expired",
        grant: -expire,
        purchased: 0,
        held: 0,
        ...stripeIds,
        description: `Unspent plan grant expired at the end of the period (${reason})${carry ? `; ${carry} kept for in-flight jobs` : ""}`,
      });
    }
    const tier = getTier(acct.tier);
    if (!grant) {
      this.setGrantTier(null);
      this.post(this.account()!, {
        type: "plan_changed",
        grant: 0,
        purchased: 0,
        held: 0,
        ...stripeIds,
        description: `New billing period ${iso(start)} – ${iso(end)} (${tier.tier} tier, ${acct.status}): the plan grant follows the payment of the period's invoice`,
      });
      return;
    }
    this.postGrant(acct.tier, { ...stripeIds, stripeObjectId: grant.stripeObjectId }, `${iso(start)} – ${iso(end)}${grant.note}`);
  }

  /** Posts the tier's whole monthly grant for the current period (`what`: the period, and why now) and records it as granted. */
  postGrant(tierName: TierName, ids: { stripeEventId: string | null; stripeObjectId: string | null }, what: string): void {
    const tier = getTier(tierName);
    const grant = tier.monthly_credit_limit ?? 0;
    this.setGrantTier(tierName);
    this.post(this.account()!, {
      type: "plan_grant",
      grant,
      purchased: 0,
      held: 0,
      ...ids,
      description:
        tier.monthly_credit_limit === null
          ? `New billing period ${what} (unmetered ${tier.tier} plan)`
          : `Monthly plan grant: ${grant} credits (${tier.tier} tier), period ${what}`,
    });
  }

  /** The tier whose monthly grant the current period has received (null: none yet). */
  setGrantTier(tier: TierName | null): void {
    this.sql.exec("UPDATE account SET grant_tier = ? WHERE id = 1", tier);
  }

  /**
   * Applies an entry to the account and appends it, undelivered: the only place balances change.
   * `acct` may carry a changed analyses counter, written in the same statement.
   */
  post(acct: AccountRow, e: EntryInput): { account: AccountRow; entry: LedgerEntry } {
    const pools = applyEntry(acct, e);
    this.sql.exec(
      "UPDATE account SET grant_remaining = ?, purchased_balance = ?, held = ?, period_analyses = ?, version = version + 1 WHERE id = 1",
      pools.grant_remaining,
      pools.purchased_balance,
      pools.held,
      acct.period_analyses,
    );
    const now = this.now();
    const entry: Omit<LedgerEntry, "seq" | "created_at"> = {
      id: crypto.randomUUID(),
      type: e.type,
      amount: e.grant + e.purchased,
      grant_amount: e.grant,
      purchased_amount: e.purchased,
      held_amount: e.held,
      balance_after: pools.grant_remaining + pools.purchased_balance,
      held_after: pools.held,
      job_id: e.jobId ?? null,
      stripe_event_id: e.stripeEventId ?? null,
      stripe_object_id: e.stripeObjectId ?? null,
      description: e.description,
    };
    const { seq } = this.sql
      .exec<{ seq: number }>(
        `INSERT INTO entries (id, type, amount, grant_amount, purchased_amount, held_amount, balance_after, held_after, job_id,
           op_id, stripe_event_id, stripe_object_id, description, created_at, mirrored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING seq`,
        entry.id,
        entry.type,
        entry.amount,
        entry.grant_amount,
        entry.purchased_amount,
        entry.held_amount,
        entry.balance_after,
        entry.held_after,
        entry.job_id,
        e.opId ?? null,
        entry.stripe_event_id,
        entry.stripe_object_id,
        entry.description,
        now,
        UNDELIVERED,
      )
      .one();
    return { account: { ...acct, ...pools, version: acct.version + 1 }, entry: { ...entry, seq, created_at: iso(now) } };
  }

  /** Releases a whole pending hold, giving the analysis back when asked and still in its period. */
  voidHold(jobId: string, reason: string, refundAnalysis: boolean): { state: HoldRow["state"]; posted: number; replay: boolean } {
    const hold = this.hold(jobId);
    if (!hold) return { state: "voided", posted: 0, replay: true };
    if (hold.state !== "pending") return { state: hold.state, posted: hold.posted, replay: true };
    const acct = this.account()!;
    this.sql.exec("UPDATE holds SET state = 'voided' WHERE job_id = ?", jobId);
    const inPeriod = acct.stripe_managed ? hold.placed_at >= acct.period_start : hold.period_index === acct.period_index;
    if (refundAnalysis && inPeriod && acct.period_analyses > 0) this.sql.exec("UPDATE account SET period_analyses = period_analyses - 1 WHERE id = 1");
    this.post(this.account()!, {
      type: "hold_released",
      grant: 0,
      purchased: 0,
      held: -hold.amount,
      jobId,
      description: `Released ${hold.amount} held credits for analysis job ${jobId}: ${reason}`,
    });
    return { state: "voided", posted: 0, replay: false };
  }

  placeHold(jobId: string, amount: number, periodIndex: number, deadline: number): void {
    this.sql.exec(
      "INSERT INTO holds (job_id, amount, state, period_index, placed_at, deadline) VALUES (?, ?, 'pending', ?, ?, ?)",
      jobId,
      amount,
      periodIndex,
      this.now(),
      deadline,
    );
  }

  settleHold(jobId: string, posted: number): void {
    this.sql.exec("UPDATE holds SET state = 'settled', posted = ? WHERE job_id = ?", posted, jobId);
  }

  hold(jobId: string): HoldRow | undefined {
    return this.sql
      .exec<HoldRow>("SELECT job_id, amount, state, period_index, placed_at, posted FROM holds WHERE job_id = ?", jobId)
      .toArray()[0];
  }

  expiredHolds(now: number): string[] {
    return this.sql.exec<{ job_id: string }>("SELECT job_id FROM holds WHERE state = 'pending' AND deadline <= ?", now).toArray().map((h) => h.job_id);
  }

  earliestHoldDeadline(): number | null {
    return this.sql.exec<{ d: number | null }>("SELECT MIN(deadline) AS d FROM holds WHERE state = 'pending'").one().d;
  }

  /** Tier, status and Stripe fields of a plan change (changePlan); returns the account after. */
  updatePlan(acct: AccountRow, req: PlanChange, stripeManaged: number): AccountRow {
    const pending = req.pendingChange === undefined ? { tier: acct.pending_tier, at: acct.pending_at } : { tier: req.pendingChange?.tier ?? null, at: req.pendingChange ? Date.parse(req.pendingChange.at) : null };
    this.sql.exec(
      `UPDATE account SET tier = ?, status = ?, trial_end = ?, cancel_at_period_end = ?, pending_tier = ?, pending_at = ?,
         stripe_subscription_id = ?, stripe_managed = ?, plan_source_ts = ? WHERE id = 1`,
      req.tier,
      req.status,
      req.trialEnd === undefined ? acct.trial_end : req.trialEnd ? Date.parse(req.trialEnd) : null,
      req.cancelAtPeriodEnd === undefined ? acct.cancel_at_period_end : req.cancelAtPeriodEnd ? 1 : 0,
      pending.tier,
      pending.at,
      req.stripeSubscriptionId === undefined ? acct.stripe_subscription_id : req.stripeSubscriptionId,
      stripeManaged,
      Math.max(acct.plan_source_ts, req.sourceTimestamp ?? 0),
    );
    return this.account()!;
  }

  setPeriodEnd(end: number): void {
    this.sql.exec("UPDATE account SET period_end = ? WHERE id = 1", end);
  }

  addCreditsUsed(cost: number): void {
    this.sql.exec("UPDATE account SET period_credits_used = period_credits_used + ? WHERE id = 1", cost);
  }

  /** Records an op id; false when it was already applied (the caller then does nothing). */
  claimOp(opId: string): boolean {
    if (this.opApplied(opId)) return false;
    this.sql.exec("INSERT INTO ops (op_id, applied_at) VALUES (?, ?)", opId, this.now());
    return true;
  }

  /** Purchased credits an op posted (a credit pack's `credit_pack:<payment intent>`); 0 when it never applied. */
  purchasedByOp(opId: string): number {
    return this.sql.exec<{ n: number | null }>("SELECT SUM(purchased_amount) AS n FROM entries WHERE op_id = ?", opId).one().n ?? 0;
  }

  /** How many of a charge's credits refunds and disputes have accounted for so far. */
  reversalAccounted(chargeId: string): number {
    return this.sql.exec<{ accounted: number }>("SELECT accounted FROM reversals WHERE charge_id = ?", chargeId).toArray()[0]?.accounted ?? 0;
  }

  setReversalAccounted(chargeId: string, paymentIntentId: string, accounted: number): void {
    this.sql.exec("INSERT OR REPLACE INTO reversals (charge_id, payment_intent_id, accounted) VALUES (?, ?, ?)", chargeId, paymentIntentId, accounted);
  }

  opApplied(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM ops WHERE op_id = ?", opId).toArray().length > 0;
  }

  bumpVersion(): void {
    this.sql.exec("UPDATE account SET version = version + 1 WHERE id = 1");
  }

  /** The admission an Idempotency-Key recorded, while it is live (an expired one is forgotten). */
  idempotency(key: string): { request_hash: string; job_id: string } | null {
    const prior = this.sql
      .exec<{ request_hash: string; job_id: string; expires_at: number }>("SELECT request_hash, job_id, expires_at FROM idempotency WHERE key = ?", key)
      .toArray()[0];
    if (prior && prior.expires_at > this.now()) return prior;
    if (prior) this.sql.exec("DELETE FROM idempotency WHERE key = ?", key);
    return null;
  }

  rememberIdempotency(key: string, requestHash: string, jobId: string, ttlMs: number): void {
    this.sql.exec("INSERT INTO idempotency (key, request_hash, job_id, expires_at) VALUES (?, ?, ?, ?)", key, requestHash, jobId, this.now() + ttlMs);
  }

  entries(afterSeq: number, limit: number): EntryRow[] {
    return this.sql.exec<EntryRow>("SELECT * FROM entries WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit).toArray();
  }

  // ---------------------------------------------------------------- the outbox (delivery.ts)

  /** A job admitted in this transaction, keyed by its hold_placed entry's seq (delivery order). */
  addJob(entrySeq: number, record: NewJobRecord): void {
    this.sql.exec("INSERT INTO job_outbox (seq, job_id, record) VALUES (?, ?, ?)", entrySeq, record.id, JSON.stringify(record));
  }

  undeliveredJobs(limit = Number.MAX_SAFE_INTEGER): { seq: number; record: NewJobRecord }[] {
    return this.sql
      .exec<{ seq: number; record: string }>("SELECT seq, record FROM job_outbox ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map((r) => ({ seq: r.seq, record: JSON.parse(r.record) as NewJobRecord }));
  }

  undeliveredEntries(limit = Number.MAX_SAFE_INTEGER): EntryRow[] {
    return this.sql.exec<EntryRow>("SELECT * FROM entries WHERE mirrored = ? ORDER BY seq LIMIT ?", UNDELIVERED, limit).toArray();
  }

  hasUndelivered(): boolean {
    return (
      this.sql.exec("SELECT 1 FROM job_outbox LIMIT 1").toArray().length > 0 ||
      this.sql.exec("SELECT 1 FROM entries WHERE mirrored = ? LIMIT 1", UNDELIVERED).toArray().length > 0
    );
  }

  /** Jobs just queued for dispatch, to check at `dueAt` that a consumer took them. */
  watchDispatch(jobs: { id: string; organizationId: string }[], dueAt: number): void {
    for (const j of jobs) {
      this.sql.exec("INSERT OR REPLACE INTO dispatch_watch (job_id, organization_id, due_at) VALUES (?, ?, ?)", j.id, j.organizationId, dueAt);
    }
  }

  dueDispatchWatches(now: number, limit: number): { job_id: string; organization_id: string; checks: number }[] {
    return this.sql
      .exec<{ job_id: string; organization_id: string; checks: number }>("SELECT job_id, organization_id, checks FROM dispatch_watch WHERE due_at <= ? ORDER BY due_at LIMIT ?", now, limit)
      .toArray();
  }

  /** Forgets watches (their jobs were dispatched, or checked often enough), re-arms the rest. */
  settleDispatchWatches(done: string[], again: string[], dueAt: number): void {
    for (const id of done) this.sql.exec("DELETE FROM dispatch_watch WHERE job_id = ?", id);
    for (const id of again) this.sql.exec("UPDATE dispatch_watch SET due_at = ?, checks = checks + 1 WHERE job_id = ?", dueAt, id);
  }

  earliestDispatchWatch(): number | null {
    return this.sql.exec<{ d: number | null }>("SELECT MIN(due_at) AS d FROM dispatch_watch").one().d;
  }

  /** When the named timer is due (null: not set). */
  timerDue(name: string): number | null {
    return this.sql.exec<{ due_at: number }>("SELECT due_at FROM timers WHERE name = ?", name).toArray()[0]?.due_at ?? null;
  }

  /** Sets (a time) or clears (null) the named timer. */
  setTimer(name: string, dueAt: number | null): void {
    if (dueAt === null) this.sql.exec("DELETE FROM timers WHERE name = ?", name);
    else this.sql.exec("INSERT OR REPLACE INTO timers (name, due_at) VALUES (?, ?)", name, dueAt);
  }

  /** A delivered round: its jobs leave the outbox, its entries are marked as in D1. */
  markDelivered(throughJobSeq: number | null, throughEntrySeq: number | null): void {
    if (throughJobSeq !== null) this.sql.exec("DELETE FROM job_outbox WHERE seq <= ?", throughJobSeq);
    if (throughEntrySeq !== null) this.sql.exec("UPDATE entries SET mirrored = ? WHERE seq <= ? AND mirrored = ?", DELIVERED, throughEntrySeq, UNDELIVERED);
  }
}

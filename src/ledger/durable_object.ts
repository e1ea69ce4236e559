/**
 * OrgLedger: one Durable Object per organization. Every credit and quota decision for the
 * organization happens here, one request at a time (a Durable Object is single-threaded and each
 * mutation below is one synchronous SQLite transaction), so no two requests can spend the same credit.
 *
 * Model (TigerBeetle's two-phase transfers): admission places a pending hold for a job's maximum cost;
 * settlement posts the actual cost and releases the rest; void releases it all — each exactly once,
 * keyed by job id. Balance = unexpired plan grant + purchased credits; spending draws the grant first.
 * Every change is an immutable entry; Σ amount = balance and Σ held_amount = active holds, always.
 *
 * The object owns its data and writes it out itself (the unkey pattern): an admission's transaction
 * records the job in the job outbox with its hold_placed entry, and right after the commit an alarm
 * delivers everything undelivered — jobs to D1 and the dispatch queue, entries to D1
 * `billing_events`, the account to D1 `subscriptions` — in one D1 batch and one queue sendBatch per
 * round (deliver). Writes are idempotent; a failed delivery is retried by the alarm with backoff.
 * Until a job or entry is delivered, readers get it from the object (undelivered).
 */
import { DurableObject } from "cloudflare:workers";
import { LEDGER_SCHEMA, LEDGER_SCHEMA_VERSION, ledgerUpgrades } from "./sql.js";
import type {
  AccountView,
  AdmitRequest,
  AdmitResult,
  CreditRequest,
  CreditResult,
  EntryType,
  HoldOutcome,
  LedgerEntry,
  PlanChange,
  Refusal,
  SettleRequest,
  VoidRequest,
} from "./interface.js";
import { getTier, tierHas, type TierName, type SubscriptionStatus } from "../lib/tiers.js";
import { decideAdmission, rateLimitHeaders, type AdmissionState } from "./admission.js";
import { addMonthsUtc, iso } from "../lib/time.js";
import { deliverLedger } from "../db/mirror.js";
import type { NewJobRecord } from "../db/jobs.js";
import type { DispatchMessage } from "../queues/messages.js";

/** How long past its test_timeout a hold may stay pending before the alarm voids it. */
export const HOLD_MARGIN_MS = 2 * 3600_000;
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** Entries per delivery round: one D1 statement each, however many (see deliverLedger). */
const ENTRY_BATCH = 500;
/** Jobs per delivery round: one queue sendBatch takes at most 100 messages. */
const JOB_BATCH = 100;
/** A failed delivery is retried after 1 s, 2 s, 4 s … at most 5 minutes. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 300_000;
/** `entries.mirrored`: 0 until the entry is in D1 `billing_events`, then 1. */
const UNDELIVERED = 0;
const DELIVERED = 1;

type AccountRow = {
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
  plan_source_ts: number;
  version: number;
  created_at: number;
};

interface EntryInput {
  type: EntryType;
  grant: number;
  purchased: number;
  held: number;
  jobId?: string | null;
  opId?: string | null;
  stripeEventId?: string | null;
  stripeObjectId?: string | null;
  description: string;
}

export class OrgLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Test-only clock (ENVIRONMENT=test): lets tests drive rollover and hold expiry deterministically. */
  private clock: number | null = null;
  private alarmAt: number | null = null;
  /** The delivery under way (deliveries never overlap), and how many in a row have failed. */
  private delivering: Promise<number> | null = null;
  private failures = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    let state = this.storedState();
    if (!state || state.version < LEDGER_SCHEMA_VERSION) {
      const definitionOf = (table: string) =>
        this.sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).toArray()[0]?.sql ?? null;
      ctx.storage.transactionSync(() => {
        for (const stmt of ledgerUpgrades(definitionOf)) this.sql.exec(stmt);
        for (const stmt of LEDGER_SCHEMA) this.sql.exec(stmt);
      });
      state = this.storedState()!;
    }
  }

  // ------------------------------------------------------------------ public RPC methods

  /** The account as the billing API shows it; rolls the period over first if it has ended. */
  async getAccount(orgId: string): Promise<AccountView> {
    const acct = this.ctx.storage.transactionSync(() => this.ensure(orgId));
    await this.schedule();
    return this.view(acct);
  }

  /**
   * Admission: status, features, monthly quota, credits — in that order — then count + hold, and the
   * job itself into the job outbox, all in one transaction; the delivery runs right after the commit.
   */
  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const result = this.ctx.storage.transactionSync((): AdmitResult => {
      const now = this.now();
      const acct = this.ensure(req.orgId);

      if (req.idempotencyKey) {
        const prior = this.sql
          .exec<{ request_hash: string; job_id: string; expires_at: number }>(
            "SELECT request_hash, job_id, expires_at FROM idempotency WHERE key = ?",
            req.idempotencyKey,
          )
          .toArray()[0];
        if (prior && prior.expires_at > now) {
          if (prior.request_hash !== req.requestHash) {
            const refusal: Refusal = {
              code: "RESOURCE_CONFLICT",
              message: "Idempotency-Key was already used with a different request body",
              details: { idempotency_key: req.idempotencyKey },
              headers: {},
            };
            return { ok: false, refusal };
          }
          const hold = this.holdRow(prior.job_id);
          return { ok: true, replay: true, jobId: prior.job_id, hold: hold?.amount ?? 0 };
        }
        if (prior) this.sql.exec("DELETE FROM idempotency WHERE key = ?", req.idempotencyKey);
      }
      const existing = this.holdRow(req.jobId);
      if (existing) return { ok: true, replay: true, jobId: req.jobId, hold: existing.amount };

      const decision = decideAdmission(this.admissionState(acct), req.features, req.testTimeoutSeconds, now);
      if (!decision.ok) return { ok: false, refusal: decision.refusal };
      const hold = decision.hold;
      const metered = getTier(acct.tier).monthly_credit_limit !== null;
      const verdicts = tierHas(acct.tier, "reachability_analysis");
      this.sql.exec(
        "INSERT INTO holds (job_id, amount, state, period_index, placed_at, deadline) VALUES (?, ?, 'pending', ?, ?, ?)",
        req.jobId,
        hold,
        acct.period_index,
        now,
        now + req.testTimeoutSeconds * 1000 + HOLD_MARGIN_MS,
      );
      const counted = { ...acct, period_analyses: acct.period_analyses + 1 };
      const { account: after, entry } = this.post(counted, {
        type: "hold_placed",
        grant: 0,
        purchased: 0,
        held: hold,
        jobId: req.jobId,
        description: metered
          ? `Held ${hold} credits for analysis job ${req.jobId} (its maximum cost)`
          : `Analysis job ${req.jobId} admitted (unmetered plan: nothing held)`,
      });
      if (req.idempotencyKey) {
        this.sql.exec(
          "INSERT INTO idempotency (key, request_hash, job_id, expires_at) VALUES (?, ?, ?, ?)",
          req.idempotencyKey,
          req.requestHash ?? "",
          req.jobId,
          now + IDEMPOTENCY_TTL_MS,
        );
      }
      if (req.job) {
        if (req.job.id !== req.jobId || req.job.organizationId !== req.orgId) throw new Error("job record does not match the admission");
        const record: NewJobRecord = { ...req.job, maxCost: hold, reachabilityVerdicts: verdicts };
        // Keyed by its hold_placed entry's seq: jobs are delivered in admission order.
        this.sql.exec("INSERT INTO job_outbox (seq, job_id, record) VALUES (?, ?, ?)", entry.seq, req.jobId, JSON.stringify(record));
      }
      const limit = getTier(after.tier).monthly_analysis_limit ?? 0;
      return {
        ok: true,
        replay: false,
        jobId: req.jobId,
        hold,
        verdicts,
        rateLimit: rateLimitHeaders(this.admissionState(after), limit - after.period_analyses, now),
      };
    });
    if (result.ok && !result.replay) await this.deliverSoon();
    return result;
  }

  /** Posts the actual cost (≤ the hold) and releases the rest. Idempotent by job id. */
  async settle(req: SettleRequest): Promise<HoldOutcome> {
    const out = this.ctx.storage.transactionSync((): HoldOutcome => {
      let acct = this.ensure(req.orgId);
      const hold = this.holdRow(req.jobId);
      if (!hold) throw new Error(`no hold for job ${req.jobId}`);
      if (hold.state !== "pending") return { jobId: req.jobId, state: hold.state, posted: hold.posted, replay: true };
      const metered = getTier(acct.tier).monthly_credit_limit !== null || hold.amount > 0;
      const cost = Math.max(0, Math.min(Math.floor(req.cost), metered ? hold.amount : Number.MAX_SAFE_INTEGER));
      let grantPart = 0;
      let purchasedPart = 0;
      if (metered) {
        grantPart = Math.min(cost, acct.grant_remaining);
        purchasedPart = cost - grantPart;
      }
      this.sql.exec("UPDATE holds SET state = 'settled', posted = ? WHERE job_id = ?", metered ? cost : 0, req.jobId);
      this.sql.exec("UPDATE account SET period_credits_used = period_credits_used + ? WHERE id = 1", cost);
      acct = this.account()!;
      this.post(acct, {
        type: req.outcome === "completed" ? "analysis_completed" : "analysis_cancelled",
        grant: -grantPart,
        purchased: -purchasedPart,
        held: -hold.amount,
        jobId: req.jobId,
        description: metered
          ? `${req.description}: cost ${cost} credits (${grantPart} from plan grant, ${purchasedPart} purchased); released ${hold.amount - cost} of ${hold.amount} held`
          : `${req.description}: cost ${cost} credits (unmetered plan, usage recorded)`,
      });
      return { jobId: req.jobId, state: "settled", posted: metered ? cost : 0, replay: false };
    });
    await this.schedule();
    return out;
  }

  /** Dry run of admission for quotes: same rules, nothing changes. */
  async previewAdmission(orgId: string, features: AdmitRequest["features"], testTimeoutSeconds: number) {
    const acct = this.ctx.storage.transactionSync(() => this.ensure(orgId));
    return { decision: decideAdmission(this.admissionState(acct), features, testTimeoutSeconds, this.now()), account: this.view(acct) };
  }

  /** Releases a whole hold. Idempotent by job id. */
  async voidHold(req: VoidRequest): Promise<HoldOutcome> {
    const out = this.ctx.storage.transactionSync(() => {
      this.ensure(req.orgId);
      return this.voidInTx(req.jobId, req.reason, req.refundAnalysis);
    });
    await this.schedule();
    return out;
  }

  /**
   * Adds purchased credits (credit packs) or an operator adjustment. Exactly once per opId. An
   * adjustment that would overdraw is refused (an answer, not an exception: a refusal is not a
   * fault of the object) and leaves the opId unused, so the request may be retried once it fits.
   */
  async credit(req: CreditRequest): Promise<CreditResult> {
    const out = this.ctx.storage.transactionSync((): CreditResult => {
      let acct = this.ensure(req.orgId);
      if (this.opApplied(req.opId)) return { applied: false, account: this.view(acct) };
      const amount = Math.trunc(req.credits);
      const pool = req.type === "credit_purchased" ? "purchased" : (req.pool ?? "purchased");
      // An adjustment may never take a pool below zero, nor the balance below active holds.
      const current = pool === "grant" ? acct.grant_remaining : acct.purchased_balance;
      if (amount < 0 && (current + amount < 0 || balanceOf(acct) + amount < acct.held)) {
        return { applied: false, account: this.view(acct), refused: `adjustment of ${amount} would overdraw the ${pool} credits (${current}, ${acct.held} held)` };
      }
      this.recordOp(req.opId);
      this.post(acct, {
        type: req.type,
        grant: pool === "grant" ? amount : 0,
        purchased: pool === "purchased" ? amount : 0,
        held: 0,
        opId: req.opId,
        stripeEventId: req.stripeEventId ?? null,
        stripeObjectId: req.stripeObjectId ?? null,
        description: req.description,
      });
      acct = this.account()!;
      return { applied: true, account: this.view(acct) };
    });
    await this.schedule();
    return out;
  }

  /**
   * Changes tier / status / period (Stripe webhooks, operators). A change older than the last one
   * applied (by sourceTimestamp) is ignored, so out-of-order deliveries converge. A new periodStart
   * rolls the period over: counters reset, the unspent grant expires, the new grant is posted.
   */
  async changePlan(req: PlanChange): Promise<{ applied: boolean; account: AccountView }> {
    const out = this.ctx.storage.transactionSync(() => {
      let acct = this.ensure(req.orgId);
      if (!this.claimOp(req.opId)) return { applied: false, account: this.view(acct) };
      if (req.sourceTimestamp !== undefined && req.sourceTimestamp < acct.plan_source_ts) {
        return { applied: false, account: this.view(acct) };
      }
      const oldTier = acct.tier;
      const oldStatus = acct.status;
      const stripeIds = { stripeEventId: req.stripeEventId ?? null, stripeObjectId: req.stripeObjectId ?? null };
      const stripeManaged = req.stripeSubscriptionId !== undefined ? (req.stripeSubscriptionId ? 1 : 0) : acct.stripe_managed;
      this.sql.exec(
        `UPDATE account SET tier = ?, status = ?, trial_end = ?, cancel_at_period_end = ?, stripe_subscription_id = ?,
           stripe_managed = ?, plan_source_ts = ? WHERE id = 1`,
        req.tier,
        req.status,
        req.trialEnd === undefined ? acct.trial_end : req.trialEnd ? Date.parse(req.trialEnd) : null,
        req.cancelAtPeriodEnd === undefined ? acct.cancel_at_period_end : req.cancelAtPeriodEnd ? 1 : 0,
        req.stripeSubscriptionId === undefined ? acct.stripe_subscription_id : req.stripeSubscriptionId,
        stripeManaged,
        Math.max(acct.plan_source_ts, req.sourceTimestamp ?? 0),
      );
      acct = this.account()!;
      const newStart = req.periodStart ? Date.parse(req.periodStart) : null;
      const newEnd = req.periodEnd ? Date.parse(req.periodEnd) : null;
      if (newStart !== null && newStart !== acct.period_start) {
        this.startPeriod(acct, newStart, newEnd ?? addMonthsUtc(newStart, 1), req.reason, stripeManaged ? newStart : null, stripeIds);
      } else {
        if (newEnd !== null && newEnd !== acct.period_end) this.sql.exec("UPDATE account SET period_end = ? WHERE id = 1", newEnd);
        if (oldTier !== req.tier) {
          // Mid-period tier change (an upgrade applies at once): the grant moves by the difference
          // between the plans' monthly credits, never below zero.
          // What in-flight holds need beyond purchased credits stays, so holds never exceed the balance.
          const delta = (getTier(req.tier).monthly_credit_limit ?? 0) - (getTier(oldTier).monthly_credit_limit ?? 0);
          const reserved = Math.min(acct.grant_remaining, Math.max(0, acct.held - acct.purchased_balance));
          const grantDelta = Math.max(delta, -(acct.grant_remaining - reserved));
          this.post(this.account()!, {
            type: "plan_changed",
            grant: grantDelta,
            purchased: 0,
            held: 0,
            opId: req.opId,
            ...stripeIds,
            description: `Plan changed from ${oldTier} to ${req.tier} (${req.reason}); plan grant ${grantDelta >= 0 ? "+" : ""}${grantDelta}`,
          });
        } else if (oldStatus !== req.status) {
          // A status change alone moves no credits, but it is an effect worth a line in the history.
          this.post(this.account()!, {
            type: "plan_changed",
            grant: 0,
            purchased: 0,
            held: 0,
            opId: req.opId,
            ...stripeIds,
            description: `Subscription status changed from ${oldStatus} to ${req.status} (${req.reason})`,
          });
        }
      }
      this.bumpVersion();
      return { applied: true, account: this.view(this.account()!) };
    });
    await this.schedule();
    return out;
  }

  /** Entries in order (tests, audits). */
  async entries(orgId: string, afterSeq = 0, limit = 1000): Promise<LedgerEntry[]> {
    this.ctx.storage.transactionSync(() => this.ensure(orgId));
    return this.sql
      .exec<EntryRow>("SELECT * FROM entries WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit)
      .toArray()
      .map(entryView);
  }

  async holdState(orgId: string, jobId: string): Promise<{ state: string; amount: number; posted: number } | null> {
    this.ctx.storage.transactionSync(() => this.ensure(orgId));
    const h = this.holdRow(jobId);
    return h ? { state: h.state, amount: h.amount, posted: h.posted } : null;
  }

  /**
   * What the object has not delivered to D1 yet: its newest jobs and entries. Readers merge them
   * with what D1 has, so a job or entry is readable the moment the request that made it returns.
   */
  async undelivered(orgId: string): Promise<{ jobs: NewJobRecord[]; entries: LedgerEntry[] }> {
    this.ctx.storage.transactionSync(() => this.ensure(orgId));
    const jobs = this.sql.exec<{ record: string }>("SELECT record FROM job_outbox ORDER BY seq").toArray().map((r) => JSON.parse(r.record) as NewJobRecord);
    const entries = this.sql.exec<EntryRow>("SELECT * FROM entries WHERE mirrored = 0 ORDER BY seq").toArray().map(entryView);
    return { jobs, entries };
  }

  /**
   * Delivers everything undelivered now and resolves when it is in D1 and queued (the alarm does the
   * same on its own; the cron sweep calls this for objects whose alarm was lost, and a write to a
   * job the object still holds waits for it).
   */
  async deliver(orgId: string): Promise<number> {
    this.ctx.storage.transactionSync(() => this.ensure(orgId));
    const n = await this.deliverAll();
    await this.schedule();
    return n;
  }

  /** Test-only: sets the object's clock (refused unless ENVIRONMENT=test). */
  async setClockForTesting(ms: number | null): Promise<void> {
    if (this.env.ENVIRONMENT !== ("test" as string)) throw new Error("setClockForTesting is only available in tests");
    this.clock = ms;
  }

  /** Periodic duty: period rollover, expired holds, outbox. The cron sweep calls it as a backstop. */
  async tick(orgId: string): Promise<void> {
    this.ctx.storage.transactionSync(() => this.ensure(orgId));
    await this.alarm();
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const acct = this.account();
    if (!acct) return;
    const now = this.now();
    this.ctx.storage.transactionSync(() => {
      this.rolloverIfDue(this.account()!);
      const expired = this.sql
        .exec<{ job_id: string }>("SELECT job_id FROM holds WHERE state = 'pending' AND deadline <= ?", now)
        .toArray();
      for (const h of expired) this.voidInTx(h.job_id, "hold expired: the job was neither settled nor voided by its deadline", false);
    });
    try {
      await this.deliverAll();
    } catch (err) {
      this.failures++;
      const retryIn = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (this.failures - 1));
      console.error(JSON.stringify({ msg: "ledger delivery failed", org: acct.organization_id, attempt: this.failures, retry_in_ms: retryIn, error: String(err) }));
      await this.setAlarmAt(Date.now() + retryIn, true);
      return;
    }
    await this.schedule(true);
  }

  // ------------------------------------------------------------------ internals

  /** Schema version; null before the schema exists. */
  private storedState(): { version: number } | null {
    try {
      return this.sql.exec<{ version: number }>("SELECT version FROM ledger_schema").one();
    } catch {
      return null; // no such table yet
    }
  }

  private now(): number {
    return this.clock ?? Date.now();
  }

  private account(): AccountRow | null {
    return this.sql.exec<AccountRow>("SELECT * FROM account WHERE id = 1").toArray()[0] ?? null;
  }

  /** Creates the account on first use (free tier, monthly periods from now) and rolls over if due. */
  private ensure(orgId: string): AccountRow {
    let acct = this.account();
    if (acct && acct.organization_id !== orgId) throw new Error("ledger object addressed with the wrong organization id");
    if (!acct) {
      const now = this.now();
      const free = getTier("free");
      this.sql.exec(
        `INSERT INTO account (id, organization_id, subscription_id, tier, status, period_anchor, period_index, period_start,
           period_end, created_at) VALUES (1, ?, ?, 'free', 'active', ?, 0, ?, ?, ?)`,
        orgId,
        crypto.randomUUID(),
        now,
        now,
        addMonthsUtc(now, 1),
        now,
      );
      acct = this.account()!;
      this.post(acct, {
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
  private rolloverIfDue(acct: AccountRow): void {
    const now = this.now();
    if (acct.stripe_managed || now < acct.period_end) return;
    let index = acct.period_index;
    while (addMonthsUtc(acct.period_anchor, index + 1) <= now) index++;
    this.sql.exec("UPDATE account SET period_index = ? WHERE id = 1", index);
    this.startPeriod(
      this.account()!,
      addMonthsUtc(acct.period_anchor, index),
      addMonthsUtc(acct.period_anchor, index + 1),
      "billing period ended",
      null,
    );
  }

  /**
   * Starts a billing period: the unspent grant expires — except what in-flight holds need beyond the
   * purchased credits, which is carried until they settle (so holds never exceed the balance) — the
   * counters reset and the tier's monthly grant is posted.
   */
  private startPeriod(
    acct: AccountRow,
    start: number,
    end: number,
    reason: string,
    newAnchor: number | null,
    stripeIds: { stripeEventId: string | null; stripeObjectId: string | null } = { stripeEventId: null, stripeObjectId: null },
  ): void {
    const carry = Math.min(acct.grant_remaining, Math.max(0, acct.held - acct.purchased_balance));
    const expire = acct.grant_remaining - carry;
    this.sql.exec(
      "UPDATE account SET period_start = ?, period_end = ?, period_analyses = 0, period_credits_used = 0 WHERE id = 1",
      start,
      end,
    );
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
    const grant = tier.monthly_credit_limit ?? 0;
    this.post(this.account()!, {
      type: "plan_grant",
      grant,
      purchased: 0,
      held: 0,
      ...stripeIds,
      description: tier.monthly_credit_limit === null
        ? `New billing period ${iso(start)} – ${iso(end)} (unmetered ${tier.tier} plan)`
        : `Monthly plan grant: ${grant} credits (${tier.tier} tier), period ${iso(start)} – ${iso(end)}`,
    });
  }

  private voidInTx(jobId: string, reason: string, refundAnalysis: boolean): HoldOutcome {
    const hold = this.holdRow(jobId);
    if (!hold) return { jobId, state: "voided", posted: 0, replay: true };
    if (hold.state !== "pending") return { jobId, state: hold.state, posted: hold.posted, replay: true };
    const acct = this.account()!;
    this.sql.exec("UPDATE holds SET state = 'voided' WHERE job_id = ?", jobId);
    if (refundAnalysis && hold.period_index === acct.period_index && acct.period_analyses > 0 && !acct.stripe_managed) {
      this.sql.exec("UPDATE account SET period_analyses = period_analyses - 1 WHERE id = 1");
    } else if (refundAnalysis && acct.stripe_managed && hold.placed_at >= acct.period_start && acct.period_analyses > 0) {
      this.sql.exec("UPDATE account SET period_analyses = period_analyses - 1 WHERE id = 1");
    }
    this.post(this.account()!, {
      type: "hold_released",
      grant: 0,
      purchased: 0,
      held: -hold.amount,
      jobId,
      description: `Released ${hold.amount} held credits for analysis job ${jobId}: ${reason}`,
    });
    return { jobId, state: "voided", posted: 0, replay: false };
  }

  private holdRow(jobId: string) {
    return this.sql
      .exec<{ job_id: string; amount: number; state: "pending" | "settled" | "voided"; period_index: number; placed_at: number; posted: number }>(
        "SELECT job_id, amount, state, period_index, placed_at, posted FROM holds WHERE job_id = ?",
        jobId,
      )
      .toArray()[0];
  }

  private opApplied(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM ops WHERE op_id = ?", opId).toArray().length > 0;
  }

  private recordOp(opId: string): void {
    this.sql.exec("INSERT INTO ops (op_id, applied_at) VALUES (?, ?)", opId, this.now());
  }

  /** Records an op id; false when it was already applied (the caller then does nothing). */
  private claimOp(opId: string): boolean {
    if (this.opApplied(opId)) return false;
    this.recordOp(opId);
    return true;
  }

  /**
   * Applies an entry to the account and appends it: the only place balances change. `acct` may carry
   * a changed analyses counter, written in the same statement. Returns the account as it now is and
   * the entry, which waits for the next delivery.
   */
  private post(acct: AccountRow, e: EntryInput): { account: AccountRow; entry: LedgerEntry } {
    const grant = acct.grant_remaining + e.grant;
    const purchased = acct.purchased_balance + e.purchased;
    const held = acct.held + e.held;
    if (grant < 0 || purchased < 0 || held < 0) throw new RangeError(`ledger entry ${e.type} would make a pool negative`);
    if (held > grant + purchased) throw new RangeError(`ledger entry ${e.type} would leave ${held} held against a balance of ${grant + purchased}`);
    this.sql.exec(
      "UPDATE account SET grant_remaining = ?, purchased_balance = ?, held = ?, period_analyses = ?, version = version + 1 WHERE id = 1",
      grant,
      purchased,
      held,
      acct.period_analyses,
    );
    const entry: Omit<LedgerEntry, "seq" | "created_at"> = {
      id: crypto.randomUUID(),
      type: e.type,
      amount: e.grant + e.purchased,
      grant_amount: e.grant,
      purchased_amount: e.purchased,
      held_amount: e.held,
      balance_after: grant + purchased,
      held_after: held,
      job_id: e.jobId ?? null,
      stripe_event_id: e.stripeEventId ?? null,
      stripe_object_id: e.stripeObjectId ?? null,
      description: e.description,
    };
    const now = this.now();
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
    return {
      account: { ...acct, grant_remaining: grant, purchased_balance: purchased, held, version: acct.version + 1 },
      entry: { ...entry, seq, created_at: iso(now) },
    };
  }

  private bumpVersion(): void {
    this.sql.exec("UPDATE account SET version = version + 1 WHERE id = 1");
  }

  private admissionState(a: AccountRow): AdmissionState {
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

  private view(a: AccountRow): AccountView {
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

  /** Delivers now unless a delivery is already under way (then that one's end is awaited). */
  private deliverAll(): Promise<number> {
    this.delivering ??= this.deliverRounds().finally(() => {
      this.delivering = null;
    });
    return this.delivering;
  }

  /**
   * Rounds until nothing is undelivered. Each round is one D1 batch — the jobs (INSERT OR IGNORE),
   * the entries as billing_events (conflict on id: nothing), the account snapshot (only if newer) —
   * then one sendBatch queueing the round's jobs, then the round is marked delivered. A round
   * retried after a crash writes nothing twice; a job queued twice is dispatched once (the consumer
   * skips a job that is no longer queued, and the runner answers a repeated job id as a duplicate).
   */
  private async deliverRounds(): Promise<number> {
    let total = 0;
    for (;;) {
      const jobs = this.sql.exec<{ seq: number; record: string }>("SELECT seq, record FROM job_outbox ORDER BY seq LIMIT ?", JOB_BATCH).toArray();
      const entries = this.sql.exec<EntryRow>("SELECT * FROM entries WHERE mirrored = 0 ORDER BY seq LIMIT ?", ENTRY_BATCH).toArray();
      if (jobs.length === 0 && entries.length === 0) {
        this.failures = 0;
        return total;
      }
      const records = jobs.map((r) => JSON.parse(r.record) as NewJobRecord);
      await deliverLedger(this.env.DB, this.view(this.account()!), records, entries.map(entryView));
      if (records.length) {
        await this.env.ANALYSIS_QUEUE.sendBatch(records.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } satisfies DispatchMessage })));
      }
      this.ctx.storage.transactionSync(() => {
        if (jobs.length) this.sql.exec("DELETE FROM job_outbox WHERE seq <= ?", jobs[jobs.length - 1]!.seq);
        if (entries.length) this.sql.exec("UPDATE entries SET mirrored = ? WHERE seq <= ? AND mirrored = ?", DELIVERED, entries[entries.length - 1]!.seq, UNDELIVERED);
      });
      total += records.length + entries.length;
    }
  }

  private undeliveredCount(): boolean {
    return (
      this.sql.exec("SELECT 1 FROM job_outbox LIMIT 1").toArray().length > 0 ||
      this.sql.exec("SELECT 1 FROM entries WHERE mirrored = 0 LIMIT 1").toArray().length > 0
    );
  }

  /** Right after a commit: an alarm now, unless one is already due no later. */
  private async deliverSoon(): Promise<void> {
    if (this.failures === 0) await this.wakeBy(Date.now());
  }

  /** Makes sure an alarm fires no later than `at` (no storage work when one already does). */
  private async wakeBy(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    await this.setAlarmAt(at);
  }

  /** Keeps exactly one alarm at the earliest time something is due. */
  private async schedule(force = false): Promise<void> {
    const acct = this.account();
    if (!acct) return;
    const candidates: number[] = [];
    if (this.undeliveredCount() && this.failures === 0) candidates.push(Date.now());
    const hold = this.sql.exec<{ d: number | null }>("SELECT MIN(deadline) AS d FROM holds WHERE state = 'pending'").one();
    if (hold.d !== null) candidates.push(hold.d);
    if (!acct.stripe_managed) candidates.push(acct.period_end);
    if (!candidates.length) return;
    // Alarms run on the real clock; with a test clock, deadlines are driven explicitly (tick).
    const at = this.clock === null ? Math.min(...candidates) : Date.now() + (this.undeliveredCount() ? 0 : 250);
    if (force || this.alarmAt === null || at < this.alarmAt) await this.setAlarmAt(at);
  }

  /** Sets the alarm; `replace` moves one already set for earlier (a retry's backoff). */
  private async setAlarmAt(at: number, replace = false): Promise<void> {
    if (this.alarmAt === null && !replace) {
      const current = await this.ctx.storage.getAlarm();
      if (current !== null && current <= at) {
        this.alarmAt = current;
        return;
      }
    }
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}

type EntryRow = {
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

function entryView(r: EntryRow): LedgerEntry {
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

function balanceOf(a: { grant_remaining: number; purchased_balance: number }): number {
  return a.grant_remaining + a.purchased_balance;
}

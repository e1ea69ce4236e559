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
 * The object owns its data and writes it out itself: an admission's transaction records the job in
 * the outbox with its hold_placed entry, and an alarm set for right after the commit delivers
 * everything undelivered to D1 and the dispatch queue (delivery.ts), retried with backoff. Until a
 * job or entry is delivered, readers get it from the object (undelivered).
 *
 * This file is the RPC surface: each method one transaction (operations.ts on store.ts), then the
 * alarm (schedule.ts); delivery.ts writes the outbox out.
 */
import { DurableObject } from "cloudflare:workers";
import type { AccountView, AdmitRequest, AdmitResult, CreditRequest, CreditResult, HoldOutcome, LedgerEntry, PlanChange, RecordRequest, ReversalRequest, ReversalResult, SettleRequest, VoidRequest } from "./interface.js";
import type { NewJobRecord } from "../db/jobs.js";
import { decideAdmission } from "./admission.js";
import { checkDispatch, deliverOutbox } from "./delivery.js";
import * as ops from "./operations.js";
import { accountView, entryView } from "./rows.js";
import { nextWake, retryDelayMs } from "./schedule.js";
import { nextRecoveryTick, recoveryTick } from "./recovery.js";
import { LedgerStore } from "./store.js";

export class OrgLedger extends DurableObject<Env> {
  /** The object's clock. Tests replace it on the live object to drive rollover and hold expiry. */
  clock: { now(): number } = Date;
  private readonly store: LedgerStore;
  private alarmAt: number | null = null;
  /** The delivery under way (deliveries never overlap), and how many in a row have failed. */
  private delivering: Promise<number> | null = null;
  private failures = 0;
  /** Set once a delivery has written this organization's row to D1 (later rounds skip that statement). */
  private organizationInD1 = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LedgerStore(ctx.storage.sql, () => this.clock.now());
    this.store.migrate((fn) => ctx.storage.transactionSync(fn));
  }

  /** The account as the billing API shows it; rolls the period over first if it has ended. */
  async getAccount(orgId: string): Promise<AccountView> {
    const acct = this.tx(() => this.store.ensure(orgId));
    await this.schedule();
    return accountView(acct);
  }

  /** Status, features, monthly quota, credits — in that order — then count, hold, entry and job, atomically. */
  async admit(req: AdmitRequest): Promise<AdmitResult> {
    const result = this.tx(() => ops.admit(this.store, req, this.clock.now()));
    // Delivery right after the commit (unless a failed one is backing off).
    if (result.ok && !result.replay && this.failures === 0) await this.wakeBy(Date.now());
    return result;
  }

  /** Posts the actual cost (≤ the hold) and releases the rest. Idempotent by job id. */
  async settle(req: SettleRequest): Promise<HoldOutcome> {
    return this.mutate((s) => ops.settle(s, req));
  }

  /** Dry run of admission for quotes: same rules, nothing changes. */
  async previewAdmission(orgId: string, features: AdmitRequest["features"], testTimeoutSeconds: number) {
    const acct = this.tx(() => this.store.ensure(orgId));
    return { decision: decideAdmission(ops.admissionState(acct), features, testTimeoutSeconds, this.clock.now()), account: accountView(acct) };
  }

  /** Releases a whole hold. Idempotent by job id. */
  async voidHold(req: VoidRequest): Promise<HoldOutcome> {
    return this.mutate((s) => {
      s.ensure(req.orgId);
      return { jobId: req.jobId, ...s.voidHold(req.jobId, req.reason, req.refundAnalysis) };
    });
  }

  /** Purchased credits or an operator adjustment, exactly once per opId (operations.ts). */
  async credit(req: CreditRequest): Promise<CreditResult> {
    return this.mutate((s) => ops.credit(s, req));
  }

  /** Takes back a refunded or disputed pack's unspent credits, exactly once per opId (operations.ts). */
  async reverseCredits(req: ReversalRequest): Promise<ReversalResult> {
    return this.mutate((s) => ops.reverseCredits(s, req));
  }

  /** A billing event that moves no credits (a failed pack payment), exactly once per opId. */
  async record(req: RecordRequest): Promise<{ applied: boolean }> {
    return this.mutate((s) => ops.record(s, req));
  }

  /** Tier / status / period changes from Stripe or operators, converging out of order (operations.ts). */
  async changePlan(req: PlanChange): Promise<{ applied: boolean; account: AccountView }> {
    return this.mutate((s) => ops.changePlan(s, req));
  }

  /** Entries in order (tests, audits). */
  async entries(orgId: string, afterSeq = 0, limit = 1000): Promise<LedgerEntry[]> {
    this.tx(() => this.store.ensure(orgId));
    return this.store.entries(afterSeq, limit).map(entryView);
  }

  async holdState(orgId: string, jobId: string): Promise<{ state: string; amount: number; posted: number } | null> {
    this.tx(() => this.store.ensure(orgId));
    const h = this.store.hold(jobId);
    return h ? { state: h.state, amount: h.amount, posted: h.posted } : null;
  }

  /** What is not in D1 yet: the newest jobs and entries, which readers merge with D1's. */
  async undelivered(orgId: string): Promise<{ jobs: NewJobRecord[]; entries: LedgerEntry[] }> {
    this.tx(() => this.store.ensure(orgId));
    return { jobs: this.store.undeliveredJobs().map((j) => j.record), entries: this.store.undeliveredEntries().map(entryView) };
  }

  /**
   * Delivers everything undelivered now and resolves once it is in D1 and queued (the alarm does
   * the same on its own; a write to a job the object still holds waits for it).
   */
  async deliver(orgId: string): Promise<number> {
    this.tx(() => this.store.ensure(orgId));
    const n = await this.deliverAll();
    await this.schedule();
    return n;
  }

  /** Periodic duty: period rollover, expired holds, delivery. The cron sweep calls it as a backstop. */
  async tick(orgId: string): Promise<void> {
    this.tx(() => this.store.ensure(orgId));
    await this.alarm();
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const acct = this.store.account();
    if (!acct) return;
    this.tx(() => {
      this.store.rolloverIfDue(this.store.account()!);
      for (const jobId of this.store.expiredHolds(this.clock.now())) {
        this.store.voidHold(jobId, "hold expired: the job was neither settled nor voided by its deadline", false);
      }
    });
    try {
      await this.deliverAll();
      await checkDispatch(this.store, this.env, (fn) => this.tx(fn));
      await recoveryTick(this.store, this.env, acct.organization_id, Date.now(), (fn) => this.tx(fn));
    } catch (err) {
      this.failures++;
      const retryIn = retryDelayMs(this.failures);
      console.error(JSON.stringify({ msg: "ledger delivery failed", org: acct.organization_id, attempt: this.failures, retry_in_ms: retryIn, error: String(err) }));
      await this.setAlarmAt(Date.now() + retryIn, true);
      return;
    }
    await this.schedule(true);
  }

  // ------------------------------------------------------------------ internals

  private tx<T>(fn: () => T): T {
    return this.ctx.storage.transactionSync(fn);
  }

  /** A mutation in one transaction, then the alarm set for what it made due. */
  private async mutate<T>(fn: (s: LedgerStore) => T): Promise<T> {
    const out = this.tx(() => fn(this.store));
    await this.schedule();
    return out;
  }

  private deliverAll(): Promise<number> {
    this.delivering ??= deliverOutbox(this.store, this.env, (fn) => this.tx(fn), this.organizationInD1)
      .then((n) => {
        this.failures = 0;
        if (n > 0) this.organizationInD1 = true;
        return n;
      })
      .finally(() => {
        this.delivering = null;
      });
    return this.delivering;
  }

  /** Makes sure an alarm fires no later than `at` (no storage work when one already does). */
  private async wakeBy(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    await this.setAlarmAt(at);
  }

  /** Keeps exactly one alarm at the earliest time something is due (schedule.ts). */
  private async schedule(force = false): Promise<void> {
    const acct = this.store.account();
    if (!acct) return;
    const undelivered = this.store.hasUndelivered();
    const holds = this.store.earliestHoldDeadline();
    const at = nextWake({
      now: Date.now(),
      undelivered,
      failures: this.failures,
      deadline: minOf(holds, this.store.earliestDispatchWatch()),
      periodEnd: acct.stripe_managed ? null : acct.period_end,
      recoveryDue: nextRecoveryTick(this.store, holds !== null, Date.now()),
    });
    if (at === null) return;
    // Alarms run on the real clock; under a replaced clock (tests) deadlines are driven by tick().
    const when = this.clock === Date ? at : Date.now() + (undelivered ? 0 : 250);
    if (force || this.alarmAt === null || when < this.alarmAt) await this.setAlarmAt(when);
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

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/**
 * The ledger object writes out what it owns (the unkey pattern): rounds until nothing is
 * undelivered. Each round is one D1 batch — the jobs (INSERT OR IGNORE), the entries as
 * billing_events (conflict on id: nothing), the account snapshot (only if newer) — then one
 * sendBatch queueing the round's jobs, then the round is marked delivered. A round retried after a
 * crash or a failure writes nothing twice; a job queued twice is dispatched once (the consumer
 * skips a job that is no longer queued, and the runner answers a repeated job id as a duplicate).
 */
import { neverDispatched } from "../db/jobs.js";
import { deliverLedger } from "../db/mirror.js";
import type { DispatchMessage } from "../queues/messages.js";
import { accountView, entryView } from "./rows.js";
import type { LedgerStore } from "./store.js";

/** Entries per round: one D1 statement however many (see deliverLedger). */
const ENTRY_BATCH = 500;
/** Jobs per round: one queue sendBatch takes at most 100 messages. */
const JOB_BATCH = 100;
/**
 * How long after queueing a job the object checks that a consumer took it, and how often it
 * re-sends one that none did before it leaves the job to the cron sweep.
 */
const DISPATCH_CHECK_MS = 20_000;
const DISPATCH_CHECKS = 5;
/**
 * Check times are rounded up to this grid, so the jobs an object queues within one step share one
 * check (one alarm, one D1 read) rather than one each: checks come 20–30 s after queueing.
 */
const DISPATCH_CHECK_STEP_MS = 10_000;

function checkDueAt(now: number): number {
  return Math.ceil((now + DISPATCH_CHECK_MS) / DISPATCH_CHECK_STEP_MS) * DISPATCH_CHECK_STEP_MS;
}

export async function deliverOutbox(
  store: LedgerStore,
  env: Pick<Env, "DB" | "ANALYSIS_QUEUE">,
  transaction: (fn: () => void) => void,
  /** Whether this object has already made sure D1 has its organization row (then the batch skips it). */
  organizationInD1 = false,
): Promise<number> {
  let total = 0;
  for (;;) {
    const jobs = store.undeliveredJobs(JOB_BATCH);
    const entries = store.undeliveredEntries(ENTRY_BATCH);
    if (jobs.length === 0 && entries.length === 0) return total;
    const records = jobs.map((j) => j.record);
    await deliverLedger(env.DB, accountView(store.account()!), records, entries.map(entryView), !organizationInD1);
    organizationInD1 = true;
    if (records.length) {
      await env.ANALYSIS_QUEUE.sendBatch(records.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } satisfies DispatchMessage })));
    }
    transaction(() => {
      store.markDelivered(jobs.at(-1)?.seq ?? null, entries.at(-1)?.seq ?? null);
      store.watchDispatch(records, checkDueAt(Date.now()));
    });
    total += records.length + entries.length;
  }
}

/**
 * Jobs queued DISPATCH_CHECK_MS ago that no consumer ever attempted (the message was lost, e.g.
 * with a local queue's process) are queued again; attempted ones are forgotten. A timer of the
 * object's own, so no job waits for a request or the cron sweep. Returns how many were re-sent.
 */
export async function checkDispatch(
  store: LedgerStore,
  env: Pick<Env, "DB" | "ANALYSIS_QUEUE">,
  transaction: (fn: () => void) => void,
): Promise<number> {
  const due = store.dueDispatchWatches(Date.now(), JOB_BATCH);
  if (!due.length) return 0;
  const lost = new Set(await neverDispatched(env.DB, due.map((w) => w.job_id)));
  const resend = due.filter((w) => lost.has(w.job_id));
  if (resend.length) {
    await env.ANALYSIS_QUEUE.sendBatch(resend.map((w) => ({ body: { job_id: w.job_id, organization_id: w.organization_id } satisfies DispatchMessage })));
  }
  const again = resend.filter((w) => w.checks + 1 < DISPATCH_CHECKS).map((w) => w.job_id);
  const done = due.map((w) => w.job_id).filter((id) => !again.includes(id));
  transaction(() => store.settleDispatchWatches(done, again, checkDueAt(Date.now())));
  return resend.length;
}

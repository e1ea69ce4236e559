/**
 * The ledger object writes out what it owns (the unkey pattern): rounds until nothing is
 * undelivered. Each round is one D1 batch — the jobs (INSERT OR IGNORE), the entries as
 * billing_events (conflict on id: nothing), the account snapshot (only if newer) — then one
 * sendBatch queueing the round's jobs, then the round is marked delivered. A round retried after a
 * crash or a failure writes nothing twice; a job queued twice is dispatched once (the consumer
 * skips a job that is no longer queued, and the runner answers a repeated job id as a duplicate).
 */
import { deliverLedger } from "../db/mirror.js";
import type { DispatchMessage } from "../queues/messages.js";
import { accountView, entryView } from "./rows.js";
import type { LedgerStore } from "./store.js";

/** Entries per round: one D1 statement however many (see deliverLedger). */
const ENTRY_BATCH = 500;
/** Jobs per round: one queue sendBatch takes at most 100 messages. */
const JOB_BATCH = 100;

export async function deliverOutbox(
  store: LedgerStore,
  env: Pick<Env, "DB" | "ANALYSIS_QUEUE">,
  transaction: (fn: () => void) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const jobs = store.undeliveredJobs(JOB_BATCH);
    const entries = store.undeliveredEntries(ENTRY_BATCH);
    if (jobs.length === 0 && entries.length === 0) return total;
    const records = jobs.map((j) => j.record);
    await deliverLedger(env.DB, accountView(store.account()!), records, entries.map(entryView));
    if (records.length) {
      await env.ANALYSIS_QUEUE.sendBatch(records.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } satisfies DispatchMessage })));
    }
    transaction(() => store.markDelivered(jobs.at(-1)?.seq ?? null, entries.at(-1)?.seq ?? null));
    total += records.length + entries.length;
  }
}

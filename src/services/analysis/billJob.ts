/**
 * The billing side of a job's end, exactly once. The state machine first records the decision in D1
 * (billing_state to_settle / to_void with cost_credits); this then tells the ledger (idempotent by job
 * id) and marks the row. A crash in between leaves to_settle / to_void, which the cron sweep retries.
 */
import type { Database } from "../../db/client.js";
import type { JobRow } from "../../db/schema.js";
import { setBillingState } from "../../db/jobs.js";
import { ledgerFor } from "../../ledger/client.js";
import { recordMetric } from "../metrics/events.js";

export async function billJob(env: Env, db: Database, job: JobRow): Promise<void> {
  const ledger = ledgerFor(env, job.organizationId);
  if (job.billingState === "to_settle") {
    await ledger.settle({
      orgId: job.organizationId,
      jobId: job.id,
      cost: job.costCredits ?? 0,
      outcome: job.status === "cancelled" ? "cancelled" : "completed",
      description: job.status === "cancelled" ? `Analysis job ${job.id} cancelled` : `Analysis job ${job.id} ${job.status === "failed" ? "failed" : "completed"}`,
    });
    if (await setBillingState(db, job.id, ["to_settle"], "settled") && (job.costCredits ?? 0) > 0) {
      await recordMetric(env, null, { kind: "credits_consumed", orgId: job.organizationId, credits: job.costCredits! });
    }
  } else if (job.billingState === "to_void") {
    await ledger.voidHold({
      orgId: job.organizationId,
      jobId: job.id,
      reason: job.errorMessage ? `job ${job.status}: ${job.errorMessage}` : `job ${job.status}`,
      refundAnalysis: true,
    });
    await setBillingState(db, job.id, ["to_void"], "voided");
  }
}

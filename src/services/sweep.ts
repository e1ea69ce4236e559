/**
 * The cron backstop: settles billing decisions a crash left half-done, fails jobs whose runner went
 * silent (lease expired), re-dispatches queued jobs whose dispatch was lost, rolls over billing periods
 * that ended, and forgets old runner nonces.
 */
import { lte } from "drizzle-orm";
import { createDb, schema } from "../db/client.js";
import { jobsAwaitingBilling, jobsWithExpiredLease, purgeNonces, undispatchedJobs, updateActiveJob } from "../db/jobs.js";
import { loadConfig } from "../env.js";
import { ledgerFor } from "../ledger/client.js";
import { iso } from "../lib/time.js";
import { log } from "../lib/log.js";
import { billJob } from "./analysis/billJob.js";
import { failJobByService } from "./runner/failJob.js";
import { enqueueDispatch } from "../queues/producer.js";

const MAX_REDISPATCHES = 3;
const UNDISPATCHED_GRACE_MS = 2 * 60_000;

export interface SweepReport {
  billed: number;
  leasesExpired: number;
  redispatched: number;
  ledgersTicked: number;
}

export async function sweep(env: Env, now = Date.now()): Promise<SweepReport> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  const report: SweepReport = { billed: 0, leasesExpired: 0, redispatched: 0, ledgersTicked: 0 };

  for (const job of await jobsAwaitingBilling(db)) {
    await billJob(env, db, job);
    report.billed++;
  }
  for (const job of await jobsWithExpiredLease(db, iso(now))) {
    if (job.status === "queued" && job.dispatchAttempts < MAX_REDISPATCHES) {
      // Accepted by a runner that never reported back: dispatch again.
      await updateActiveJob(db, job.id, ["queued"], { dispatchedAt: null, leaseExpiresAt: null });
      await enqueueDispatch(env, { job_id: job.id, organization_id: job.organizationId });
      report.redispatched++;
    } else {
      await failJobByService(env, db, config, job.id, "internal", "The sandbox runner stopped reporting progress (lease expired); the job was not charged");
      report.leasesExpired++;
    }
  }
  for (const job of await undispatchedJobs(db, iso(now - UNDISPATCHED_GRACE_MS))) {
    await enqueueDispatch(env, { job_id: job.id, organization_id: job.organizationId });
    report.redispatched++;
  }
  const due = await db
    .select({ org: schema.subscriptions.organizationId })
    .from(schema.subscriptions)
    .where(lte(schema.subscriptions.currentPeriodEnd, iso(now)))
    .limit(500);
  for (const { org } of due) {
    await ledgerFor(env, org).tick(org);
    report.ledgersTicked++;
  }
  await purgeNonces(db, now);
  if (report.billed || report.leasesExpired || report.redispatched || report.ledgersTicked) log("info", "sweep", { ...report });
  return report;
}

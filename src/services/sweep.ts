/**
 * Recovery of jobs whose runner or dispatch went missing: settles billing decisions a crash left
 * half-done, recovers jobs whose runner went silent (lease expired: dispatched again if the sandbox
 * never started, else failed without charge), and re-dispatches queued jobs whose dispatch was lost.
 *
 * It runs per organization on a timer of the organization's ledger (every RECOVERY_TICK_MS while it
 * has jobs in flight; ledger/recovery.ts), so no job waits for a request or a cron; the cron runs it
 * for everyone as a backstop, and also rolls over billing periods that ended and forgets old nonces.
 */
import { lte } from "drizzle-orm";
import { createDb, schema, type Database } from "../db/client.js";
import { jobsAwaitingBilling, jobsWithExpiredLease, purgeNonces, undispatchedJobs, updateActiveJob } from "../db/jobs.js";
import { loadConfig, type Config } from "../env.js";
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

async function recoverJobs(env: Env, db: Database, config: Config, orgId: string | null, now: number, report: SweepReport): Promise<void> {
  for (const job of await jobsAwaitingBilling(db, orgId)) {
    await billJob(env, db, job);
    report.billed++;
  }
  for (const job of await jobsWithExpiredLease(db, iso(now), orgId)) {
    if (job.status === "queued" && job.dispatchAttempts < MAX_REDISPATCHES) {
      // Accepted by a runner that never started it (and went silent): dispatch again.
      await updateActiveJob(db, job.id, ["queued"], { dispatchedAt: null, leaseExpiresAt: null });
      await enqueueDispatch(env, { job_id: job.id, organization_id: job.organizationId });
      report.redispatched++;
    } else {
      await failJobByService(env, db, config, job.id, "internal", "The sandbox runner stopped reporting progress (lease expired); the job was not charged");
      report.leasesExpired++;
    }
  }
  for (const job of await undispatchedJobs(db, iso(now - UNDISPATCHED_GRACE_MS), orgId)) {
    await enqueueDispatch(env, { job_id: job.id, organization_id: job.organizationId });
    report.redispatched++;
  }
}

/** One organization's recovery (its ledger's timer sends it through the dispatch queue). */
export async function recoverOrganization(env: Env, orgId: string, now = Date.now()): Promise<SweepReport> {
  const report: SweepReport = { billed: 0, leasesExpired: 0, redispatched: 0, ledgersTicked: 0 };
  await recoverJobs(env, createDb(env.DB), loadConfig(env), orgId, now, report);
  if (report.billed || report.leasesExpired || report.redispatched) log("info", "recovery", { organization_id: orgId, ...report });
  return report;
}

/** The cron backstop: every organization's recovery, period rollovers, old nonces. */
export async function sweep(env: Env, now = Date.now()): Promise<SweepReport> {
  const db = createDb(env.DB);
  const report: SweepReport = { billed: 0, leasesExpired: 0, redispatched: 0, ledgersTicked: 0 };
  await recoverJobs(env, db, loadConfig(env), null, now, report);
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

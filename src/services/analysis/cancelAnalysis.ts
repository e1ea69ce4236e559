import type { Database } from "../../db/client.js";
import type { Config } from "../../env.js";
import { getJob, transitionJob } from "../../db/jobs.js";
import { ApiError } from "../../errors/api-error.js";
import { settlementCost } from "../../lib/cost.js";
import { isoNow } from "../../lib/time.js";
import { billJob } from "./billJob.js";
import { tellRunnerToCancel } from "../runner/runnerClient.js";
import { notifyBaseApp } from "./notify.js";
import { undeliveredJobs } from "./submitAnalysis.js";
import { ledgerFor } from "../../ledger/client.js";

/**
 * Cancel policy: a queued job (its sandbox never ran) costs nothing; a running job pays the base cost
 * plus 1 credit per started 5 minutes of sandbox run time so far. Finished jobs → 409.
 */
export async function cancelAnalysis({ env, db, config, orgId, jobId }: { env: Env; db: Database; config: Config; orgId: string; jobId: string }) {
  let job = await getJob(db, orgId, jobId);
  if (!job && (await undeliveredJobs(env, orgId)).some((j) => j.id === jobId)) {
    // A job its ledger still holds: cancelling changes its D1 row, so the ledger delivers it first.
    await ledgerFor(env, orgId).deliver(orgId);
    job = await getJob(db, orgId, jobId);
  }
  if (!job) throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
  const now = Date.now();
  const ran = job.sandboxStartedAt !== null;
  const elapsed = ran ? Math.max(0, (now - Date.parse(job.sandboxStartedAt!)) / 1000) : 0;
  const cost = settlementCost({ outcome: "cancelled", sandboxRan: ran, sandboxSeconds: elapsed }, job.maxCost);
  const updated = await transitionJob(db, job.id, "cancelled", {
    billingState: ran ? "to_settle" : "to_void",
    costCredits: cost,
    errorCode: "cancelled",
    errorMessage: "Cancelled by the user",
    completedAt: isoNow(),
    environmentJson: null,
    leaseExpiresAt: null,
  });
  if (!updated) {
    const now2 = await getJob(db, orgId, jobId);
    throw new ApiError("RESOURCE_CONFLICT", `Analysis job is already ${now2?.status ?? "finished"}`, { status: now2?.status });
  }
  await billJob(env, db, updated);
  // Best effort: the runner stops the sandbox; if it is unreachable the lease and its own timeout end it.
  if (job.dispatchedAt) await tellRunnerToCancel(config, job.id).catch(() => undefined);
  await notifyBaseApp(env, config, updated);
  return (await getJob(db, orgId, jobId))!;
}

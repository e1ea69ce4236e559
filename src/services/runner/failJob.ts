import type { Database } from "../../db/client.js";
import type { Config } from "../../env.js";
import { getJobById, TERMINAL } from "../../db/jobs.js";
import type { FailCallback } from "@vexxy/contract";
import { COST } from "../../lib/cost.js";
import { isoNow } from "../../lib/time.js";
import { endJob } from "./endJob.js";
import type { CallbackOutcome } from "./recordProgress.js";

/**
 * Failure policy: nothing is charged when the sandbox never ran or the fault is the service's; when the
 * image itself failed after it ran (crash, unhealthy, OOM, timeout) the run time is billed like a
 * cancel — base cost + 1 per started 5 minutes — and no feature is billed.
 */
function failureCost(f: Pick<FailCallback, "fault" | "sandbox_ran" | "sandbox_seconds">): number {
  if (f.fault === "service" || !f.sandbox_ran) return 0;
  return COST.base + Math.ceil(Math.max(0, f.sandbox_seconds) / 300) * COST.per_five_minutes;
}

export async function failJob(env: Env, db: Database, config: Config, jobId: string, body: FailCallback): Promise<CallbackOutcome> {
  const job = await getJobById(db, jobId);
  if (!job) return { kind: "not_found" };
  if (TERMINAL.includes(job.status)) return { kind: "finished", status: job.status };
  const cost = Math.min(failureCost(body), job.maxCost > 0 ? job.maxCost : Number.MAX_SAFE_INTEGER);
  return endJob(env, db, config, jobId, "failed", {
    errorCode: body.error_code,
    errorMessage: body.error_message,
    costCredits: cost,
    billingState: cost > 0 ? "to_settle" : "to_void",
    sandboxSeconds: body.sandbox_seconds,
    completedAt: isoNow(),
    environmentJson: null,
    leaseExpiresAt: null,
  });
}

/** Fails a job from the Worker's side (dead-lettered dispatch, expired lease): never charged. */
export async function failJobByService(env: Env, db: Database, config: Config, jobId: string, code: FailCallback["error_code"], message: string) {
  return failJob(env, db, config, jobId, { error_code: code, error_message: message, fault: "service", sandbox_ran: false, sandbox_seconds: 0 });
}

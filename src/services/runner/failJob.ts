import type { Database } from "../../db/client.js";
import type { Config } from "../../env.js";
import { getJobById } from "../../db/jobs.js";
import type { FailCallback } from "@vexxy/contract";
import { settlementCost } from "../../lib/cost.js";
import { isoNow } from "../../lib/time.js";
import { endJob } from "./endJob.js";
import type { CallbackOutcome } from "./recordProgress.js";

export async function failJob(env: Env, db: Database, config: Config, jobId: string, body: FailCallback): Promise<CallbackOutcome> {
  const job = await getJobById(db, jobId);
  if (!job) return { kind: "not_found" };
  // Failure policy (lib/cost.ts settlementCost): free unless the image itself failed after it ran.
  const cost = settlementCost({ outcome: "failed", serviceFault: body.fault === "service", sandboxRan: body.sandbox_ran, sandboxSeconds: body.sandbox_seconds }, job.maxCost);
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

import type { Database } from "../../db/client.js";
import type { Config } from "../../env.js";
import { getJobById, transitionJob, type NewJob } from "../../db/jobs.js";
import type { JobStatus } from "../../db/schema.js";
import { billJob } from "../analysis/billJob.js";
import { notifyBaseApp } from "../analysis/notify.js";
import type { CallbackOutcome } from "./recordProgress.js";

/**
 * Moves a job to a terminal state, then settles or voids its hold and notifies the base application.
 * When a concurrent change won the transition, reports the status the job ended in instead.
 */
export async function endJob(
  env: Env,
  db: Database,
  config: Config,
  jobId: string,
  to: Extract<JobStatus, "complete" | "failed">,
  fields: Partial<Omit<NewJob, "id" | "status" | "organizationId">>,
): Promise<CallbackOutcome> {
  const updated = await transitionJob(db, jobId, to, fields);
  if (!updated) {
    const now = await getJobById(db, jobId);
    return { kind: "finished", status: now!.status };
  }
  await billJob(env, db, updated);
  await notifyBaseApp(env, config, updated);
  return { kind: "ok", job: (await getJobById(db, jobId))! };
}

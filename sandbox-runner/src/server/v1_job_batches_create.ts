/**
 * POST /v1/job-batches — the Worker's queue consumer dispatches a whole queue batch in one signed
 * request. Each job is handled exactly as POST /v1/jobs would handle it alone (accepted while slots
 * are free, then busy); the answer is 200 with one result per job, in order.
 */
import { DispatchBatchSchema, type DispatchBatchResult } from "@vexxy/contract";
import type { Handler } from "./context.js";
import { sendJson } from "./http.js";
import { readSignedJson, refusalMessage } from "./signed-json.js";

export const createJobBatch: Handler = async (req, res, ctx) => {
  const { jobs } = await readSignedJson(req, ctx, DispatchBatchSchema, "a valid batch of job dispatches");
  const results: DispatchBatchResult["results"] = jobs.map((job) => {
    const outcome = ctx.jobs.dispatch(job);
    if (outcome === "accepted") ctx.logger.info("job accepted", { job_id: job.job_id, attempt: job.attempt, batch: true });
    const message = refusalMessage(outcome, job, ctx);
    return { job_id: job.job_id, outcome, ...(message ? { message } : {}) };
  });
  return sendJson(res, 200, { results, retry_after_seconds: ctx.retryAfterSeconds } satisfies DispatchBatchResult);
};

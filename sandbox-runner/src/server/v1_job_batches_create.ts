/**
 * POST /v1/job-batches — the Worker's queue consumer dispatches a whole queue batch in one signed
 * request. Each job is handled exactly as POST /v1/jobs would handle it alone (accepted while slots
 * are free, then busy); the answer is 200 with one result per job, in order.
 */
import { DispatchBatchSchema, type DispatchBatchResult } from "../../../src/queues/contract.js";
import { authenticate } from "./auth.js";
import type { Handler } from "./context.js";
import { HttpError, readBody, sendJson } from "./http.js";

export const createJobBatch: Handler = async (req, res, ctx) => {
  const raw = await readBody(req, ctx.maxBodyBytes);
  await authenticate(req, raw, ctx.secret, ctx.replayGuard);

  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpError("invalid_request", "request body is not JSON");
  }
  const parsed = DispatchBatchSchema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(
      "invalid_request",
      "request body is not a valid batch of job dispatches",
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  const results: DispatchBatchResult["results"] = parsed.data.jobs.map((job) => {
    const outcome = ctx.jobs.dispatch(job);
    if (outcome === "accepted") ctx.logger.info("job accepted", { job_id: job.job_id, attempt: job.attempt, batch: true });
    const message =
      outcome === "conflict"
        ? `job ${job.job_id} is already running here under another attempt`
        : outcome === "finished"
          ? `attempt ${job.attempt} of job ${job.job_id} has already finished here`
          : outcome === "busy"
            ? `all ${ctx.jobs.maxConcurrent} sandbox slots are busy`
            : undefined;
    return { job_id: job.job_id, outcome, ...(message ? { message } : {}) };
  });
  return sendJson(res, 200, { results, retry_after_seconds: ctx.retryAfterSeconds } satisfies DispatchBatchResult);
};

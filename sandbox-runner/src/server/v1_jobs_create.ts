/** POST /v1/jobs — the Worker dispatches a job; the pipeline starts asynchronously (202). */
import { DispatchJobSchema } from "@vexxy/contract";
import type { Handler } from "./context.js";
import { HttpError, sendJson } from "./http.js";
import { readSignedJson, refusalMessage } from "./signed-json.js";

export const createJob: Handler = async (req, res, ctx) => {
  const job = await readSignedJson(req, ctx, DispatchJobSchema, "a valid job dispatch");
  const retryAfter = { "retry-after": String(ctx.retryAfterSeconds) };
  const outcome = ctx.jobs.dispatch(job);
  switch (outcome) {
    case "accepted":
      ctx.logger.info("job accepted", { job_id: job.job_id, attempt: job.attempt });
      return sendJson(res, 202, { accepted: true });
    case "duplicate":
      return sendJson(res, 202, { accepted: true, duplicate: true });
    case "conflict":
    case "finished":
      throw new HttpError("conflict", refusalMessage(outcome, job, ctx)!);
    case "busy":
      throw new HttpError("at_capacity", refusalMessage(outcome, job, ctx)!, undefined, retryAfter);
    case "shutting_down":
      throw new HttpError("shutting_down", refusalMessage(outcome, job, ctx)!, undefined, retryAfter);
  }
};

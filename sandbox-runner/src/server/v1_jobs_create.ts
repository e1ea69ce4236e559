/** POST /v1/jobs — the Worker dispatches a job; the pipeline starts asynchronously (202). */
import { DispatchJobSchema } from "../../../src/queues/contract.js";
import { authenticate } from "./auth.js";
import type { Handler } from "./context.js";
import { HttpError, readBody, sendJson } from "./http.js";

export const createJob: Handler = async (req, res, ctx) => {
  const raw = await readBody(req, ctx.maxBodyBytes);
  await authenticate(req, raw, ctx.secret, ctx.replayGuard);

  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpError("invalid_request", "request body is not JSON");
  }
  const parsed = DispatchJobSchema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(
      "invalid_request",
      "request body is not a valid job dispatch",
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  const job = parsed.data;
  const retryAfter = { "retry-after": String(ctx.retryAfterSeconds) };
  switch (ctx.jobs.dispatch(job)) {
    case "accepted":
      ctx.logger.info("job accepted", { job_id: job.job_id, attempt: job.attempt });
      return sendJson(res, 202, { accepted: true });
    case "duplicate":
      return sendJson(res, 202, { accepted: true, duplicate: true });
    case "conflict":
      throw new HttpError("conflict", `job ${job.job_id} is already running here under another attempt`);
    case "finished":
      throw new HttpError("conflict", `attempt ${job.attempt} of job ${job.job_id} has already finished here`);
    case "busy":
      throw new HttpError("at_capacity", `all ${ctx.jobs.maxConcurrent} sandbox slots are busy`, undefined, retryAfter);
    case "shutting_down":
      throw new HttpError("shutting_down", "the runner is shutting down", undefined, retryAfter);
  }
};

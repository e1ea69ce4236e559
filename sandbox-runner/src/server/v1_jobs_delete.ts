/** DELETE /v1/jobs/{id} — cancels a running job: its pipeline stops and its sandbox is destroyed. */
import { authenticate } from "./auth.js";
import type { Handler } from "./context.js";
import { HttpError, readBody, sendJson } from "./http.js";

export const deleteJob: Handler = async (req, res, ctx, params) => {
  const raw = await readBody(req, ctx.maxBodyBytes);
  await authenticate(req, raw, ctx.secrets, ctx.replayGuard);
  const id = params.id ?? "";
  if (!ctx.jobs.cancel(id)) throw new HttpError("not_found", `job ${id} is not running here`);
  ctx.logger.info("job cancel requested", { job_id: id });
  // 202: the abort is under way; the fail callback ("cancelled") follows once the sandbox is gone.
  sendJson(res, 202, { cancelled: true });
};

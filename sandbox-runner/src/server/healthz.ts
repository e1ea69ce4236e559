/** GET /healthz — liveness and load, unauthenticated (no job data). 503 while shutting down. */
import type { Handler } from "./context.js";
import { sendJson } from "./http.js";

export const healthz: Handler = async (_req, res, ctx) => {
  const accepting = ctx.jobs.isAccepting;
  sendJson(res, accepting ? 200 : 503, {
    status: accepting ? "ok" : "shutting_down",
    running: ctx.jobs.running,
    capacity: ctx.jobs.maxConcurrent,
    driver: ctx.driverName,
  });
};

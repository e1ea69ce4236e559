/**
 * GET /healthz — liveness, load, and whether analyses can run here (and why not), unauthenticated
 * (no job data). 503 only while shutting down: a runner whose host lacks something stays alive and
 * fails its jobs as sandbox_unavailable, naming what is missing.
 */
import type { HostCheck } from "../drivers/types.js";
import type { Handler } from "./context.js";
import { sendJson } from "./http.js";

export const healthz: Handler = async (_req, res, ctx) => {
  const accepting = ctx.jobs.isAccepting;
  const checks = ctx.readiness();
  sendJson(res, accepting ? 200 : 503, {
    status: accepting ? "ok" : "shutting_down",
    running: ctx.jobs.running,
    queued: ctx.jobs.queued,
    capacity: ctx.jobs.maxConcurrent,
    driver: ctx.driverName,
    analyses: analyses(checks),
    checks,
  });
};

/**
 * can_run: a job without a test script would run now. test_scripts: "ready"; "preparing" (the
 * prober image is being built, such jobs wait for it); "unavailable" (they fail until fixed).
 */
function analyses(checks: HostCheck[]) {
  const core = checks.filter((c) => !c.onlyForTestScripts);
  const canRun = core.every((c) => c.status === "ok");
  const scriptChecks = checks.filter((c) => c.onlyForTestScripts);
  const testScripts = !canRun || scriptChecks.some((c) => c.status === "missing") ? "unavailable" : scriptChecks.some((c) => c.status === "preparing") ? "preparing" : "ready";
  const reasons = checks.filter((c) => c.status !== "ok").map((c) => `${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ""}`);
  return { can_run: canRun, test_scripts: testScripts, reasons };
}

/** Callbacks from the sandbox-runner (/internal/v1/jobs/{job_id}/…), signed with RUNNER_SECRET. */
import { Hono } from "hono";
import type { z } from "zod";
import type { AppEnv } from "../../env.js";
import { requireRunnerSignature } from "../../middleware/runner-signature.js";
import { CompleteCallbackSchema, FailCallbackSchema, ProgressCallbackSchema } from "@vexxy/contract";
import { ApiError } from "../../errors/api-error.js";
import { zodDetails } from "../../errors/envelope.js";
import { recordProgress, type CallbackOutcome } from "../../services/runner/recordProgress.js";
import { completeJob } from "../../services/runner/completeJob.js";
import { failJob } from "../../services/runner/failJob.js";
import { getJobInput } from "../../services/runner/jobInputs.js";
import { statusView } from "../../services/analysis/views.js";

type Env = AppEnv & { Variables: { rawBody: string } };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parse<T extends z.ZodTypeAny>(schema: T, raw: string): z.infer<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ApiError("VALIDATION_ERROR", "Malformed JSON in request body");
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError("VALIDATION_ERROR", "Invalid callback body", zodDetails(r.error.issues));
  return r.data;
}

function jobIdOf(id: string): string {
  if (!UUID.test(id)) throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
  return id.toLowerCase();
}

/** 200 with the job's status; 404 unknown job; 409 when the job already ended (the runner stops). */
function answer(outcome: CallbackOutcome) {
  if (outcome.kind === "not_found") throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
  if (outcome.kind === "finished") throw new ApiError("RESOURCE_CONFLICT", `Analysis job is already ${outcome.status}`, { status: outcome.status });
  return statusView(outcome.job);
}

export const runnerRoutes = new Hono<Env>()
  .use("*", requireRunnerSignature)
  .post("/:job_id/progress", async (c) => {
    const body = parse(ProgressCallbackSchema, c.get("rawBody"));
    return c.json(answer(await recordProgress(c.get("db"), c.get("config"), jobIdOf(c.req.param("job_id")), body)));
  })
  .post("/:job_id/complete", async (c) => {
    const body = parse(CompleteCallbackSchema, c.get("rawBody"));
    const id = jobIdOf(c.req.param("job_id"));
    const outcome = await completeJob(c.env, c.get("db"), c.get("config"), id, body);
    // A duplicate completion of a completed job is a harmless no-op.
    if (outcome.kind === "finished" && outcome.status === "complete") return c.json({ status: "complete", duplicate: true });
    return c.json(answer(outcome));
  })
  .post("/:job_id/fail", async (c) => {
    const body = parse(FailCallbackSchema, c.get("rawBody"));
    const id = jobIdOf(c.req.param("job_id"));
    const outcome = await failJob(c.env, c.get("db"), c.get("config"), id, body);
    if (outcome.kind === "finished" && outcome.status !== "complete") return c.json({ status: outcome.status, duplicate: true });
    return c.json(answer(outcome));
  })
  .get("/:job_id/inputs/:kind{sbom|vulnerabilities}", async (c) => {
    const kind = c.req.param("kind") as "sbom" | "vulnerabilities";
    const obj = await getJobInput(c.env, c.get("db"), jobIdOf(c.req.param("job_id")), kind);
    if (obj === "no_job") throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
    if (!obj) throw new ApiError("RESOURCE_NOT_FOUND", `This job has no ${kind} input`);
    return new Response(obj.body, { headers: { "Content-Type": "application/json" } });
  });

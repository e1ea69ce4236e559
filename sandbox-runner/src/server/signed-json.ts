/** What both dispatch routes do first: a signed body, parsed as JSON and checked against a schema. */
import type { IncomingMessage } from "node:http";
import type { z } from "zod";
import type { DispatchJob } from "@vexxy/contract";
import { authenticate } from "./auth.js";
import type { ServerContext } from "./context.js";
import { HttpError, readBody } from "./http.js";

export async function readSignedJson<T extends z.ZodTypeAny>(req: IncomingMessage, ctx: ServerContext, schema: T, what: string): Promise<z.infer<T>> {
  const raw = await readBody(req, ctx.maxBodyBytes);
  await authenticate(req, raw, ctx.secrets, ctx.replayGuard);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new HttpError("invalid_request", "request body is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(
      "invalid_request",
      `request body is not ${what}`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}

/** Why a dispatch was not started, in the words both routes answer with. */
export function refusalMessage(outcome: string, job: DispatchJob, ctx: ServerContext): string | undefined {
  switch (outcome) {
    case "conflict":
      return `job ${job.job_id} is already running here under another attempt`;
    case "finished":
      return `attempt ${job.attempt} of job ${job.job_id} has already finished here`;
    case "busy":
      return ctx.jobs.queueLimit > 0
        ? `all ${ctx.jobs.maxConcurrent} sandbox slots are busy and ${ctx.jobs.queueLimit} jobs already wait for one`
        : `all ${ctx.jobs.maxConcurrent} sandbox slots are busy`;
    case "shutting_down":
      return "the runner is shutting down";
    default:
      return undefined;
  }
}

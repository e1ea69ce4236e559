/** Analysis API (spec §2): submit, quote, status, results, cancel, list, live events. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../../env.js";
import { bearerSecurity, errorResponses, quotaExample, queryInt } from "../schemas.js";
import { documentExamples } from "../spec-examples.js";
import { validationHook } from "../validation.js";
import { requireAuth } from "../../middleware/auth.js";
import { AnalysisRequestSchema, QuoteSchema } from "./schemas.js";
import { findJob, submitAnalysis, submitView } from "../../services/analysis/submitAnalysis.js";
import { listAnalyses } from "../../services/analysis/listAnalyses.js";
import { quoteAnalysis } from "../../services/analysis/quoteAnalysis.js";
import { cancelAnalysis } from "../../services/analysis/cancelAnalysis.js";
import { listItemView, resultsView, statusView, type StoredResults } from "../../services/analysis/views.js";
import { JOB_STATUSES, TERMINAL } from "../../lib/job-status.js";
import { getJson } from "../../services/analysis/storage.js";
import { ApiError } from "../../errors/api-error.js";
import { quotaHeaders } from "../../errors/quota.js";

const json = <T extends z.ZodTypeAny>(schema: T, description: string, example?: unknown) => ({ content: { "application/json": { schema, ...(example ? { example } : {}) } }, description });
const JobId = z.object({ job_id: z.string().uuid("must be a UUID").openapi({ param: { name: "job_id", in: "path" } }) });
const notFound = { 404: "no such job in the caller's organization" };
const finished = { description: "the job already finished", message: "Analysis job is already complete", details: { status: "complete" } };

const SubmitResponse = z
  .object({
    job_id: z.string().uuid(),
    status: z.literal("queued").or(z.enum(JOB_STATUSES)),
    image_ref: z.string(),
    image_digest: z.string(),
    estimated_duration_minutes: z.number().int(),
    created_at: z.string(),
    max_cost_credits: z.number().int(),
  })
  .openapi("SubmitResponse");

const StatusResponse = z
  .object({
    job_id: z.string().uuid(),
    status: z.enum(JOB_STATUSES),
    progress_percent: z.number().int(),
    current_phase: z.string().nullable(),
    phase: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    estimated_completion: z.string().nullable(),
    completed_at: z.string().nullable(),
    image_ref: z.string(),
    image_digest: z.string(),
    error_message: z.string().nullable(),
    error_code: z.string().nullable(),
  })
  .openapi("AnalysisStatus");

const ResultsResponse = z
  .object({
    job_id: z.string().uuid(),
    status: z.enum(JOB_STATUSES),
    image_ref: z.string(),
    image_digest: z.string(),
    vex_document: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description:
          "OpenVEX v0.2.0 document. null until the job is complete, and also on a complete job where no vulnerability matched a package: OpenVEX requires at least one statement, so there is nothing to state (`reachability_results.notes` says so).",
      }),
    execution_profile: z.record(z.string(), z.unknown()).nullable(),
    reachability_results: z.record(z.string(), z.unknown()).nullable(),
    security_findings: z.record(z.string(), z.unknown()).nullable(),
    cost_credits: z.number().int().nullable(),
    completed_at: z.string().nullable(),
    error_message: z.string().nullable(),
  })
  .openapi("AnalysisResults");

const ListResponse = z
  .object({ jobs: z.array(z.record(z.string(), z.unknown())), next_cursor: z.string().nullable() })
  .openapi("AnalysisList");

const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "must be 1–255 visible ASCII characters")
    .optional()
    .openapi({ description: "Idempotency-Key: a replay within 24 h returns the original job; the same key with another body is a 409" }),
});

const submit = createRoute({
  method: "post",
  path: "/submit",
  operationId: "submitAnalysis",
  tags: ["Analysis"],
  summary: "Submit a container image for premium runtime analysis",
  description:
    "Admission is atomic in the organization's ledger: status, features, monthly analyses, then a hold for the job's maximum cost " +
    "(base 10, +5 fuzzing, +3 profiling, +7 code coverage, +1 per started 5 minutes of test_timeout). Settlement policy: a job that fails " +
    "before its sandbox ran, or by the service's fault, costs nothing; a cancelled running job pays the base cost plus 1 per started 5 minutes run; " +
    "a completed job pays base + the features that actually ran + 1 per started 5 minutes of sandbox run time (queue time is never billed); " +
    "a job whose image failed after it ran pays base + run time. The hold's unused part is always released.",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: {
    headers: IdempotencyHeader,
    body: { content: { "application/json": { schema: AnalysisRequestSchema, example: documentExamples.submitRequest } }, required: true },
  },
  responses: {
    201: json(SubmitResponse, "Queued", documentExamples.submitResponse),
    ...errorResponses(
      { bearer: true, body: true },
      {
        403: {
          description: "subscription not active, or a feature the tier lacks (`details` name it and the tier that has it)",
          message: "Security fuzzing requires the professional tier or higher (current tier: starter)",
          details: { feature: "security_fuzzing", required_tier: "professional", current_tier: "starter" },
        },
        409: { description: "Idempotency-Key reused with a different body", message: "Idempotency-Key was already used with a different request body", details: { idempotency_key: "c7a8f1e2-submit-1" } },
        429: {
          description:
            "monthly analyses (`details.quota_type: \"monthly_analyses\"`), credits (`\"credits\"`) or the rate limit (`\"rate_limit\"`); `Retry-After` and `RateLimit` headers",
          example: quotaExample,
        },
        502: { description: "the base application's SBOM could not be fetched", message: "Could not reach the base application to fetch the SBOM", details: { sbom_id: "550e8400-e29b-41d4-a716-446655440000" } },
      },
    ),
  },
});

const quote = createRoute({
  method: "post",
  path: "/quote",
  operationId: "quoteAnalysis",
  tags: ["Analysis"],
  summary: "What a submission would cost and whether it would be admitted (nothing is held)",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: { content: { "application/json": { schema: AnalysisRequestSchema, example: documentExamples.submitRequest } }, required: true } },
  responses: { 200: json(QuoteSchema, "Quote"), ...errorResponses({ bearer: true, body: true }) },
});

const status = createRoute({
  method: "get",
  path: "/{job_id}/status",
  operationId: "getAnalysisStatus",
  tags: ["Analysis"],
  summary: "Job status and progress",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: JobId },
  responses: { 200: json(StatusResponse, "Status", documentExamples.status), ...errorResponses({ bearer: true, params: true }, notFound) },
});

const results = createRoute({
  method: "get",
  path: "/{job_id}/results",
  operationId: "getAnalysisResults",
  tags: ["Analysis"],
  summary: "Results (200 in every state; result fields are null until complete)",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: JobId },
  responses: { 200: json(ResultsResponse, "Results", documentExamples.results), ...errorResponses({ bearer: true, params: true }, notFound) },
});

const cancelPost = createRoute({
  method: "post",
  path: "/{job_id}/cancel",
  operationId: "cancelAnalysis",
  tags: ["Analysis"],
  summary: "Cancel a job wherever it is",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: JobId },
  responses: {
    200: json(StatusResponse, "Cancelled"),
    ...errorResponses({ bearer: true, params: true, bodyChecks: true }, { ...notFound, 409: finished }),
  },
});
const cancelDelete = createRoute({
  ...cancelPost,
  method: "delete",
  path: "/{job_id}",
  operationId: "deleteAnalysis",
  // DELETE bodies are size-checked but not type-checked (no 415).
  responses: { 200: json(StatusResponse, "Cancelled"), ...errorResponses({ bearer: true, params: true }, { ...notFound, 409: finished, 413: undefined }) },
});

const list = createRoute({
  method: "get",
  path: "/",
  operationId: "listAnalyses",
  tags: ["Analysis"],
  summary: "The organization's jobs, newest first (never environment values)",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: {
    query: z.object({
      status: z.enum(JOB_STATUSES).optional(),
      limit: queryInt(1, 100, 20),
      cursor: z.string().max(200).optional(),
    }),
  },
  responses: { 200: json(ListResponse, "Jobs"), ...errorResponses({ bearer: true, params: true }) },
});

const events = createRoute({
  method: "get",
  path: "/{job_id}/events",
  operationId: "streamAnalysisEvents",
  tags: ["Analysis"],
  summary: "Server-Sent Events: `status` events on every phase or progress change until the job ends",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { params: JobId },
  responses: { 200: { content: { "text/event-stream": { schema: z.string() } }, description: "Event stream" }, ...errorResponses({ bearer: true, params: true }, notFound) },
});

function encodeCursor(createdAt: string, id: string) {
  return btoa(JSON.stringify([createdAt, id])).replace(/=+$/, "");
}
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(atob(cursor)) as [string, string];
    if (typeof createdAt === "string" && typeof id === "string") return { createdAt, id };
  } catch {}
  throw new ApiError("VALIDATION_ERROR", "Invalid query parameters: cursor", { fields: [{ field: "cursor", message: "not a cursor this API issued" }] });
}

const SSE_POLL_MS = 1000;

export const analysisRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(submit, async (c) => {
    const bearer = c.req.header("Authorization")!.replace(/^Bearer\s+/i, "").trim();
    const { job, replay, quota } = await submitAnalysis({
      env: c.env,
      db: c.get("db"),
      config: c.get("config"),
      auth: c.get("auth"),
      input: c.req.valid("json"),
      idempotencyKey: c.req.valid("header")["idempotency-key"] ?? null,
      bearer,
    });
    if (quota) for (const [k, v] of Object.entries(quotaHeaders(quota))) c.header(k, v);
    if (replay) c.header("Idempotent-Replayed", "true");
    c.header("Location", `/api/v1/analysis/${job.id}/status`);
    return c.json(submitView(job) as z.infer<typeof SubmitResponse>, 201);
  })
  .openapi(quote, async (c) => {
    return c.json(await quoteAnalysis({ env: c.env, orgId: c.get("auth").orgId, input: c.req.valid("json") }), 200);
  })
  .openapi(status, async (c) => {
    const job = await findJob(c.env, c.get("db"), c.get("auth").orgId, c.req.valid("param").job_id);
    if (!job) throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
    return c.json(statusView(job), 200);
  })
  .openapi(results, async (c) => {
    const job = await findJob(c.env, c.get("db"), c.get("auth").orgId, c.req.valid("param").job_id);
    if (!job) throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
    const stored = job.status === "complete" && job.resultsKey ? await getJson<StoredResults>(c.env.ARTIFACTS, job.resultsKey) : null;
    return c.json(resultsView(job, stored), 200);
  })
  .openapi(cancelPost, async (c) => {
    const job = await cancelAnalysis({ env: c.env, db: c.get("db"), config: c.get("config"), orgId: c.get("auth").orgId, jobId: c.req.valid("param").job_id });
    return c.json(statusView(job), 200);
  })
  .openapi(cancelDelete, async (c) => {
    const job = await cancelAnalysis({ env: c.env, db: c.get("db"), config: c.get("config"), orgId: c.get("auth").orgId, jobId: c.req.valid("param").job_id });
    return c.json(statusView(job), 200);
  })
  .openapi(list, async (c) => {
    const q = c.req.valid("query");
    const rows = await listAnalyses({ env: c.env, db: c.get("db"), orgId: c.get("auth").orgId, status: q.status, limit: q.limit + 1, cursor: q.cursor ? decodeCursor(q.cursor) : undefined });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return c.json({ jobs: page.map(listItemView), next_cursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null }, 200);
  })
  .openapi(events, async (c) => {
    const db = c.get("db");
    const orgId = c.get("auth").orgId;
    const jobId = c.req.valid("param").job_id;
    const first = await findJob(c.env, db, orgId, jobId);
    if (!first) throw new ApiError("RESOURCE_NOT_FOUND", "Analysis job not found");
    return streamSSE(c, async (stream) => {
      let last = "";
      let id = 0;
      for (;;) {
        const job = await findJob(c.env, db, orgId, jobId);
        if (!job) return;
        const view = statusView(job);
        const key = `${view.status}|${view.progress_percent}|${view.phase}`;
        if (key !== last) {
          last = key;
          await stream.writeSSE({ event: "status", id: String(++id), data: JSON.stringify(view) });
        }
        if (TERMINAL.includes(job.status)) {
          await stream.writeSSE({ event: "end", id: String(++id), data: JSON.stringify({ status: job.status }) });
          return;
        }
        if (stream.aborted) return;
        await stream.sleep(SSE_POLL_MS);
      }
    }) as never;
  });


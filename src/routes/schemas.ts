/**
 * Schemas shared by several routes: the error envelope, and the error responses each operation
 * documents. Every operation lists the statuses it can really return (test/fuzz.test.ts holds every
 * answer it sees to the document), each with the envelope schema and an example of that code.
 */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES, type ErrorCode } from "../errors/codes.js";
import { SPEC_ERROR_EXAMPLE } from "./spec-examples.js";

const ErrorSchema = z
  .object({
    error: z.enum(ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
    timestamp: z.string().openapi({ example: "2025-11-17T10:00:00Z" }),
  })
  .openapi("Error");

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 502 | 503;

/** The code each status carries (413 and 415 are VALIDATION_ERROR with the HTTP status that names the problem). */
const CODE: Record<ErrorStatus, ErrorCode> = {
  400: "VALIDATION_ERROR",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "RESOURCE_NOT_FOUND",
  409: "RESOURCE_CONFLICT",
  413: "VALIDATION_ERROR",
  415: "VALIDATION_ERROR",
  429: "QUOTA_EXCEEDED",
  500: "INTERNAL_ERROR",
  502: "EXTERNAL_SERVICE_ERROR",
  503: "SERVICE_UNAVAILABLE",
};

/** Default description and example (message, details) for each status. */
const DEFAULTS: Record<ErrorStatus, [string, string, Record<string, unknown> | null]> = {
  400: ["invalid request data; `details.fields` names each offending field", "Invalid request body", { fields: [{ field: "image_ref", message: "Required" }] }],
  401: ["missing or invalid authentication", "Missing Authorization header", null],
  403: ["insufficient permissions", "Only organization admins may do this", { required_role: "admin" }],
  404: ["the resource does not exist in the caller's organization", "Analysis job not found", null],
  409: ["conflicting state", "The job already finished", null],
  413: ["the request body is larger than this operation accepts (`details.max_bytes`)", "Request body exceeds 1048576 bytes", { max_bytes: 1048576 }],
  415: ["the request body is not `application/json`", "Content-Type must be application/json", { content_type: "text/plain" }],
  429: [
    "rate limit (`details.quota_type: \"rate_limit\"`); wait `Retry-After` seconds",
    "Rate limit exceeded: at most 1200 requests per 60 s (organization-api); retry after 60 s",
    { quota_type: "rate_limit", limit: "organization-api", max_requests: 1200, period_seconds: 60, retry_after_seconds: 60 },
  ],
  500: ["an unexpected error; the request changed nothing that a retry would duplicate", "Internal server error", null],
  502: ["a dependency failed", "Stripe could not be reached", null],
  503: ["the service is misconfigured or a dependency is temporarily unavailable; retry later", "Service temporarily unavailable", null],
};

const RETRY_AFTER = { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" as const } } };

type ErrorDoc = string | { description: string; message?: string; details?: Record<string, unknown> | null; example?: unknown };

function response(status: ErrorStatus, doc?: ErrorDoc) {
  const [dflt, message, details] = DEFAULTS[status];
  const d = typeof doc === "string" ? { description: doc } : (doc ?? { description: dflt });
  const example = d.example ?? { error: CODE[status], message: d.message ?? message, details: d.details !== undefined ? d.details : details, timestamp: "2025-11-17T10:00:00Z" };
  return {
    description: `${CODE[status]}: ${d.description}`,
    content: { "application/json": { schema: ErrorSchema, example } },
    ...(status === 429 ? { headers: RETRY_AFTER } : {}),
  };
}

export interface ErrorSources {
  /** `Authorization: Bearer <JWT>` (401, and the per-organization rate limit's 429). */
  bearer?: boolean;
  /** Path, query or header parameters that are validated (400). */
  params?: boolean;
  /** A JSON body: 400 invalid, 413 too large, 415 not JSON. */
  body?: boolean;
  /** A POST without a body schema: a body it is sent anyway is still size- and type-checked (413, 415). */
  bodyChecks?: boolean;
  /** The per-client-address rate limit (429). */
  addressLimited?: boolean;
}

/**
 * The error responses of an operation: 500 and 503 always (every route runs behind the configuration
 * check), the ones its inputs and authentication imply, and the operation's own (whose descriptions
 * and examples replace the defaults).
 */
export function errorResponses(sources: ErrorSources, own: Partial<Record<ErrorStatus, ErrorDoc>> = {}) {
  const statuses = new Set<ErrorStatus>([500, 503]);
  if (sources.bearer) statuses.add(401).add(429);
  if (sources.params || sources.body) statuses.add(400);
  if (sources.body || sources.bodyChecks) statuses.add(413).add(415);
  if (sources.addressLimited) statuses.add(429);
  for (const s of Object.keys(own)) statuses.add(Number(s) as ErrorStatus);
  return Object.fromEntries([...statuses].sort().map((s) => [s, response(s, own[s])])) as Record<ErrorStatus, ReturnType<typeof response>>;
}

/** The spec's quota refusal (§3), as its example. */
export const quotaExample = SPEC_ERROR_EXAMPLE;

/** A non-negative integer from a query string: digits only (no "1e2", " 5" or "1.5"). */
export const queryInt = (min: number, max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? dflt)
    .openapi({ type: "integer", minimum: min, maximum: max, default: dflt });

export const bearerSecurity = [{ Bearer: [] }];
/** Public operations declare it: no authentication, on purpose. */
export const publicSecurity: Array<Record<string, string[]>> = [];
export const operatorSecurity = [{ OperatorToken: [] }];
export const stripeSignatureSecurity = [{ StripeSignature: [] }];

/** The one error handler: every failure leaves as the spec's envelope. */
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { envelope } from "../errors/envelope.js";
import { quotaHeaders } from "../errors/quota.js";
import { ConfigError } from "../env.js";
import { log } from "../lib/log.js";

export function errorResponse(c: Context<AppEnv>, err: ApiError): Response {
  const res = c.json(envelope(err.code, err.message, err.details), err.status as 400);
  for (const [k, v] of Object.entries(err.headers)) res.headers.set(k, v);
  if (err.retryAfterSeconds !== undefined) res.headers.set("Retry-After", String(err.retryAfterSeconds));
  if (err.quota) for (const [k, v] of Object.entries(quotaHeaders(err.quota))) res.headers.set(k, v);
  return res;
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    // Hono's own refusals: malformed JSON (400), body too large (413), ...
    const status = err.status;
    const code = status === 401 ? "UNAUTHORIZED" : status === 404 ? "RESOURCE_NOT_FOUND" : status >= 500 ? "INTERNAL_ERROR" : "VALIDATION_ERROR";
    return errorResponse(c, new ApiError(code, err.message || "Invalid request", null, { status }));
  }
  if (err instanceof ConfigError) {
    log("error", "configuration invalid", { request_id: c.get("requestId"), problems: err.problems });
    return errorResponse(
      c,
      new ApiError("SERVICE_UNAVAILABLE", "The service is misconfigured; an operator has been told what is wrong", {
        settings: err.problems.map((p) => p.split(":")[0]),
      }),
    );
  }
  log("error", "uncaught exception", {
    request_id: c.get("requestId"),
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return errorResponse(c, new ApiError("INTERNAL_ERROR", "An internal error occurred", { request_id: c.get("requestId") }));
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new ApiError("RESOURCE_NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));

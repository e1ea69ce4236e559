import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { SIGNATURE_TOLERANCE_SECONDS, verifyRequest } from "@vexxy/contract";
import { claimNonce } from "../db/jobs.js";
import { log } from "../lib/log.js";

/**
 * Authenticates a sandbox-runner request: HMAC over method, path, timestamp, nonce and body with
 * RUNNER_SECRET; stale timestamps and replayed nonces are refused. The verified raw body is kept in
 * c.var for the handler (JSON is parsed only after the signature is checked).
 */
export const requireRunnerSignature = createMiddleware<AppEnv & { Variables: { rawBody: string } }>(async (c, next) => {
  const body = c.req.method === "GET" || c.req.method === "DELETE" ? "" : await c.req.text();
  const url = new URL(c.req.url);
  const check = await verifyRequest(c.get("config").RUNNER_SECRET, c.req.method, url.pathname + url.search, body, c.req.raw.headers);
  if (!check.ok) {
    log("warn", "runner request refused", { request_id: c.get("requestId"), reason: check.reason, path: url.pathname });
    throw new ApiError("UNAUTHORIZED", `Runner signature refused: ${check.reason}`);
  }
  if (!(await claimNonce(c.get("db"), check.nonce, (check.timestamp + 2 * SIGNATURE_TOLERANCE_SECONDS) * 1000))) {
    throw new ApiError("UNAUTHORIZED", "Runner signature refused: replayed request");
  }
  c.set("rawBody", body);
  await next();
});

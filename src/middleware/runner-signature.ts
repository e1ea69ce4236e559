import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS, bodySha256, verifyRequestHead } from "@vexxy/contract";
import { claimNonce } from "../db/jobs.js";
import { logAuthFailure } from "./auth-log.js";
import { readBodyCapped } from "./json-body.js";

/** Completions carry the VEX document, profile and reachability results; every other callback is small. */
const COMPLETE_BODY_LIMIT = 32 * 1024 * 1024;
const CALLBACK_BODY_LIMIT = 1024 * 1024;

/**
 * Authenticates a sandbox-runner request: HMAC over method, path, timestamp, nonce and the body's
 * SHA-256 with RUNNER_SECRET. The signature is checked from the headers alone (the body hash is a
 * header the signature covers), so an unsigned request is refused before any of its body is read;
 * then the body is read within its route's limit and must hash to what was signed. Stale timestamps
 * and replayed nonces are refused. The verified raw body is kept in c.var for the handler.
 */
export const requireRunnerSignature = createMiddleware<AppEnv & { Variables: { rawBody: string } }>(async (c, next) => {
  const url = new URL(c.req.url);
  const refuse = async (reason: string) => {
    await logAuthFailure(c, "runner_signature", reason, c.req.header(SIGNATURE_HEADER));
    return new ApiError("UNAUTHORIZED", `Runner signature refused: ${reason}`);
  };
  const config = c.get("config");
  const secrets = config.RUNNER_SECRET_PREVIOUS ? [config.RUNNER_SECRET, config.RUNNER_SECRET_PREVIOUS] : config.RUNNER_SECRET;
  const check = await verifyRequestHead(secrets, c.req.method, url.pathname + url.search, c.req.raw.headers);
  if (!check.ok) throw await refuse(check.reason);
  const limit = c.req.method === "POST" && url.pathname.endsWith("/complete") ? COMPLETE_BODY_LIMIT : CALLBACK_BODY_LIMIT;
  const body = c.req.method === "GET" || c.req.method === "DELETE" ? "" : await readBodyCapped(c.req.raw, limit);
  if ((await bodySha256(body)) !== check.bodySha256) throw await refuse("body does not match the signed content hash");
  if (!(await claimNonce(c.get("db"), check.nonce, (check.timestamp + 2 * SIGNATURE_TOLERANCE_SECONDS) * 1000))) {
    throw await refuse("replayed request");
  }
  c.set("rawBody", body);
  await next();
});

import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { timingSafeEqual } from "../services/identity/passwords.js";
import { logAuthFailure } from "./auth-log.js";

const enc = new TextEncoder();

/** Requires `Authorization: Bearer <OPERATOR_TOKEN>` (operator endpoints and the metrics scrape). */
export const requireOperator = createMiddleware<AppEnv>(async (c, next) => {
  const token = (c.req.header("Authorization") ?? "").replace(/^Bearer\s+/i, "");
  if (!token || !timingSafeEqual(enc.encode(token), enc.encode(c.get("config").OPERATOR_TOKEN))) {
    await logAuthFailure(c, "operator", token ? "wrong operator token" : "missing operator token", token || null);
    throw new ApiError("UNAUTHORIZED", "Operator token required");
  }
  await next();
});

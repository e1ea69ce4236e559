import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";

/** CORS for the configured origins only; credentials are allowed, so never `*`. */
export const corsFromConfig = createMiddleware<AppEnv>(async (c, next) => {
  const allowed = c.get("config").CORS_ALLOWED_ORIGINS;
  return cors({
    origin: (origin) => (allowed.includes(origin) ? origin : null),
    credentials: true,
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    exposeHeaders: ["X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy", "Idempotent-Replayed"],
    maxAge: 600,
  })(c, next);
});

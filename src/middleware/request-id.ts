import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { log } from "../lib/log.js";

const SANE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Echoes a sane incoming X-Request-ID (else generates one) on every response; logs failed and slow requests. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("X-Request-ID");
  const id = incoming && SANE_ID.test(incoming) ? incoming : crypto.randomUUID();
  c.set("requestId", id);
  const started = Date.now();
  try {
    await next();
  } finally {
    c.res.headers.set("X-Request-ID", id);
    // Workers observability records every invocation; log here only what needs a second look.
    // Path only: query strings may carry one-time sign-in link tokens.
    const duration = Date.now() - started;
    if (c.res.status >= 500 || duration > 2000) log(c.res.status >= 500 ? "error" : "warn", "request", {
      request_id: id,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      duration_ms: duration,
      org_id: c.get("auth")?.orgId,
    });
  }
});

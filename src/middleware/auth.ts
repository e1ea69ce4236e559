import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { verifyPremiumToken } from "../services/identity/tokens.js";
import { provisionIdentity } from "../services/identity/provision.js";
import { logAuthFailure } from "./auth-log.js";
import { enforceRateLimit } from "./rate-limit.js";


/** Requires `Authorization: Bearer <jwt>`; sets c.var.auth and provisions unseen orgs/users. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  if (!header) {
    await logAuthFailure(c, "bearer", "missing Authorization header", null);
    throw new ApiError("UNAUTHORIZED", "Missing Authorization header", null, { headers: { "WWW-Authenticate": "Bearer" } });
  }
  const m = /^Bearer\s+([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*)\s*$/i.exec(header);
  if (!m) {
    await logAuthFailure(c, "bearer", "malformed Authorization header", header);
    throw new ApiError("UNAUTHORIZED", "Authorization header must be 'Bearer <token>'", null, {
      headers: { "WWW-Authenticate": 'Bearer error="invalid_request"' },
    });
  }
  let identity;
  try {
    identity = await verifyPremiumToken(m[1]!, c.get("config"));
  } catch (err) {
    if (err instanceof ApiError) {
      err.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"';
      await logAuthFailure(c, "bearer", err.message, m[1]);
    }
    throw err;
  }
  await enforceRateLimit(c.env, "organization", identity.orgId);
  await provisionIdentity(c.env.DB, identity);
  c.set("auth", identity);
  await next();
});

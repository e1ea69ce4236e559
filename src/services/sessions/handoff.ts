/**
 * The hand-off from the base application: a link to a billing page carrying `?handoff=<token>`, where
 * the token is a premium token of the spec's form (HS256 over JWT_SECRET_KEY: sub, org_id, email,
 * is_admin, iat, exp) plus a `jti`, valid at most HANDOFF_MAX_LIFETIME_SECONDS. It is exchanged once
 * (its jti is recorded in D1; a second use is refused) for the session cookie.
 */
import { decodeJwt } from "jose";
import { drizzle } from "drizzle-orm/d1";
import { lt } from "drizzle-orm";
import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { verifyPremiumToken, type Identity } from "../identity/tokens.js";
import { iso } from "../../lib/time.js";

export const HANDOFF_MAX_LIFETIME_SECONDS = 300;

/** migrations/0003_billing_page_sessions.sql */
export const usedHandoffTokens = sqliteTable("used_handoff_tokens", {
  jti: text("jti").primaryKey(),
  organizationId: text("organization_id").notNull(),
  expiresAt: text("expires_at").notNull(),
});

export async function exchangeHandoff(d1: D1Database, token: string, config: Config): Promise<Identity> {
  const identity = await verifyPremiumToken(token, config);
  const { jti, iat, exp } = decodeJwt(token);
  if (typeof jti !== "string" || jti.length < 8 || jti.length > 128) {
    throw new ApiError("UNAUTHORIZED", "Hand-off token must carry a jti (8-128 characters)");
  }
  if (typeof iat !== "number" || typeof exp !== "number" || exp - iat > HANDOFF_MAX_LIFETIME_SECONDS) {
    throw new ApiError("UNAUTHORIZED", `Hand-off token must carry iat and expire within ${HANDOFF_MAX_LIFETIME_SECONDS} seconds of it`);
  }
  const db = drizzle(d1);
  const now = Date.now();
  const inserted = await db
    .insert(usedHandoffTokens)
    .values({ jti, organizationId: identity.orgId, expiresAt: iso(exp * 1000) })
    .onConflictDoNothing()
    .returning({ jti: usedHandoffTokens.jti });
  if (inserted.length === 0) throw new ApiError("UNAUTHORIZED", "Hand-off token was already used");
  // Opportunistic cleanup: a jti only needs remembering while its token could still verify.
  await db.delete(usedHandoffTokens).where(lt(usedHandoffTokens.expiresAt, iso(now - 3600_000)));
  return identity;
}

/**
 * Billing-page sessions: an HttpOnly, SameSite=Lax cookie holding an HS256 token signed with
 * SESSION_SECRET (its own key, never the API's JWT secret), valid SESSION_TTL_SECONDS. It carries the
 * identity and a per-session CSRF token that every form repeats in a hidden field.
 */
import { SignJWT, jwtVerify } from "jose";
import type { Config } from "../../env.js";
import type { Identity } from "../identity/tokens.js";
import { timingSafeEqual } from "../identity/passwords.js";

export const SESSION_COOKIE = "vexxy_billing_session";
const SESSION_TTL_SECONDS = 8 * 3600;
const AUDIENCE = "vexxy-billing-pages";
const enc = new TextEncoder();

export interface Session extends Identity {
  csrf: string;
  expiresAt: number;
}

export function randomToken(bytes = 24): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Signs a new session for an identity. */
export async function createSession(identity: Identity, config: Config): Promise<{ token: string; session: Session }> {
  const now = Math.floor(Date.now() / 1000);
  const session: Session = { ...identity, csrf: randomToken(), expiresAt: now + SESSION_TTL_SECONDS };
  const token = await new SignJWT({ org_id: identity.orgId, email: identity.email, is_admin: identity.isAdmin, csrf: session.csrf })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(identity.userId)
    .setAudience(AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(session.expiresAt)
    .sign(enc.encode(config.SESSION_SECRET));
  return { token, session };
}

/** The session a cookie holds, or null when absent, forged, expired or malformed. */
export async function readSession(token: string | undefined, config: Config): Promise<Session | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtVerify(token, enc.encode(config.SESSION_SECRET), { algorithms: ["HS256"], audience: AUDIENCE });
    const { sub, org_id, email, is_admin, csrf, exp } = payload as Record<string, unknown>;
    if (typeof sub !== "string" || typeof org_id !== "string" || typeof email !== "string" || typeof csrf !== "string" || typeof exp !== "number") return null;
    return { userId: sub, orgId: org_id, email, isAdmin: is_admin === true, csrf, expiresAt: exp };
  } catch {
    return null;
  }
}

/** Cookie attributes: Secure everywhere except plain-http local development. */
export function cookieOptions(config: Config, maxAge = SESSION_TTL_SECONDS) {
  const local = config.ENVIRONMENT !== "production" && config.PUBLIC_BASE_URL.startsWith("http://");
  return { httpOnly: true, sameSite: "Lax" as const, secure: !local, path: "/billing", maxAge };
}

export function sameToken(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return false;
  return timingSafeEqual(enc.encode(a), enc.encode(b));
}

/**
 * Tokens made WITHOUT the service's JWT library: HMAC-SHA256 written out by hand, byte for byte what
 * PyJWT's `encode(payload, key, algorithm="HS256")` produces in the base application. If the
 * service's verification drifted from the standard, these tests would catch it.
 */
import { TEST_SECRETS } from "./secrets.js";

const enc = new TextEncoder();
const b64url = (bytes: Uint8Array | string) => {
  const b = typeof bytes === "string" ? enc.encode(bytes) : bytes;
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
};

export interface Claims {
  sub?: string;
  org_id?: string;
  email?: string;
  is_admin?: boolean;
  exp?: number;
  iat?: number;
  [k: string]: unknown;
}

export async function signHs256(payload: Claims, secret = TEST_SECRETS.JWT_SECRET_KEY, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }): Promise<string> {
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(signingInput)));
  return `${signingInput}.${b64url(sig)}`;
}

export function unsigned(payload: Claims): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(payload))}.`;
}

/** Claims exactly as create_premium_token builds them (24 h validity). */
export function premiumClaims(over: Partial<Claims> = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: crypto.randomUUID(),
    org_id: crypto.randomUUID(),
    email: `user-${crypto.randomUUID().slice(0, 8)}@example.com`,
    is_admin: false,
    exp: now + 24 * 3600,
    iat: now,
    ...over,
  };
}

export async function tokenFor(over: Partial<Claims> = {}): Promise<{ token: string; claims: Claims }> {
  const claims = premiumClaims(over);
  return { token: await signHs256(claims), claims };
}

/**
 * Premium tokens: exactly what the base application's `create_premium_token` mints with PyJWT
 * (HS256 over the shared JWT_SECRET_KEY; claims sub, org_id, email, is_admin, exp, iat). The
 * algorithm is pinned from configuration, so `alg: none` or a swapped algorithm never verifies.
 */
import { SignJWT, jwtVerify, importSPKI, errors as joseErrors, type JWTPayload } from "jose";
import { z } from "zod";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";

/** Allowance for clock skew between the base application and this service. */
export const CLOCK_SKEW_SECONDS = 30;
export const LOGIN_TOKEN_TTL_SECONDS = 24 * 3600;

const ClaimsSchema = z.object({
  sub: z.string().uuid("sub must be a UUID"),
  org_id: z.string().uuid("org_id must be a UUID"),
  email: z.string().email("email must be an email address").max(320),
  is_admin: z.boolean().default(false),
  exp: z.number(),
  iat: z.number().optional(),
});

export interface Identity {
  userId: string;
  orgId: string;
  email: string;
  isAdmin: boolean;
}

const enc = new TextEncoder();
const keyCache = new Map<string, { key: CryptoKey; verified: Map<string, Verified> }>();

/**
 * Tokens already verified with a key, by their exact text: the base application reuses one token
 * for many calls, and a hit skips the HMAC/RSA check and claim parsing (measured: a third of an
 * authenticated request's CPU). Only the signature and claims are cached; expiry is re-checked on
 * every hit, and the cache belongs to the key, so a rotated secret verifies nothing from it.
 */
interface Verified {
  identity: Identity;
  exp: number;
}
const VERIFIED_CACHE_MAX = 10_000;

async function keyEntry(config: Config, hmacSecret: string) {
  const id = `${config.JWT_ALGORITHM}:${config.JWT_ALGORITHM === "RS256" ? config.JWT_PUBLIC_KEY : hmacSecret}`;
  let entry = keyCache.get(id);
  if (!entry) {
    // Imported once: handing jose raw bytes would import a CryptoKey on every verification.
    const key =
      config.JWT_ALGORITHM === "RS256"
        ? await importSPKI(config.JWT_PUBLIC_KEY!, "RS256")
        : await crypto.subtle.importKey("raw", enc.encode(hmacSecret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    entry = { key, verified: new Map() };
    keyCache.set(id, entry);
  }
  return entry;
}

/**
 * The keys a token may verify with: JWT_SECRET_KEY, and during a rotation JWT_SECRET_KEY_PREVIOUS
 * (HS256 only; docs/operations.md). New tokens are only ever signed with the current secret.
 */
async function verificationKeys(config: Config) {
  const current = await keyEntry(config, config.JWT_SECRET_KEY);
  if (config.JWT_ALGORITHM !== "HS256" || !config.JWT_SECRET_KEY_PREVIOUS) return [current];
  return [current, await keyEntry(config, config.JWT_SECRET_KEY_PREVIOUS)];
}

/** Verifies a bearer token; any failure is a 401 whose message says what was wrong, never why it matched. */
export async function verifyPremiumToken(token: string, config: Config): Promise<Identity> {
  const keys = await verificationKeys(config);
  for (const { verified } of keys) {
    const hit = verified.get(token);
    if (!hit) continue;
    if (Math.floor(Date.now() / 1000) - CLOCK_SKEW_SECONDS < hit.exp) return hit.identity;
    verified.delete(token);
    throw new ApiError("UNAUTHORIZED", "Token has expired");
  }
  for (const [i, { key, verified }] of keys.entries()) {
    let identity: Verified;
    try {
      identity = await verifyUncached(token, key, config);
    } catch (err) {
      // Only a signature mismatch is worth trying the previous key for; anything else is final.
      if (i < keys.length - 1 && err instanceof ApiError && err.message === SIGNATURE_INVALID) continue;
      throw err;
    }
    if (verified.size >= VERIFIED_CACHE_MAX) verified.delete(verified.keys().next().value!);
    verified.set(token, identity);
    return identity.identity;
  }
  throw new ApiError("UNAUTHORIZED", SIGNATURE_INVALID);
}

const SIGNATURE_INVALID = "Token signature is invalid";

async function verifyUncached(token: string, key: CryptoKey, config: Config): Promise<Verified> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [config.JWT_ALGORITHM],
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp", "sub"],
    }));
  } catch (err) {
    throw new ApiError("UNAUTHORIZED", describeJoseError(err));
  }
  const claims = ClaimsSchema.safeParse(payload);
  if (!claims.success) {
    throw new ApiError("UNAUTHORIZED", "Token claims are invalid", {
      claims: claims.error.issues.map((i) => ({ claim: i.path.join("."), message: i.message })),
    });
  }
  const c = claims.data;
  // jose checks iat only against a maximum age; a token "issued" in the future is refused here.
  if (c.iat !== undefined && c.iat > Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS) {
    throw new ApiError("UNAUTHORIZED", `Token claim "iat" is in the future (more than ${CLOCK_SKEW_SECONDS} s of clock skew)`);
  }
  return { identity: { userId: c.sub, orgId: c.org_id, email: c.email.toLowerCase(), isAdmin: c.is_admin }, exp: c.exp };
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "Token has expired";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "Token algorithm is not allowed";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return SIGNATURE_INVALID;
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `Token claim "${err.claim}" is missing or invalid`;
  return "Token is malformed";
}

/** Mints a token of the same form the base application mints (used by /auth/login). HS256 only. */
export async function mintPremiumToken(identity: Identity, config: Config, ttlSeconds = LOGIN_TOKEN_TTL_SECONDS): Promise<string> {
  if (config.JWT_ALGORITHM !== "HS256") {
    throw new ApiError("FORBIDDEN", "Password login is disabled when tokens are RS256: sign in through the base application");
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ org_id: identity.orgId, email: identity.email, is_admin: identity.isAdmin })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(identity.userId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(enc.encode(config.JWT_SECRET_KEY));
}

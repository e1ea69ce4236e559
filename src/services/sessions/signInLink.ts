/**
 * A sign-in link from the base application: a link to a billing page carrying `?sign_in_token=<token>`, where
 * the token is a premium token of the spec's form (HS256 over JWT_SECRET_KEY: sub, org_id, email,
 * is_admin, iat, exp) plus a `jti`, valid at most SIGN_IN_LINK_MAX_LIFETIME_SECONDS. It is exchanged once
 * (its jti is recorded in D1; a second use is refused) for the session cookie.
 */
import { decodeJwt } from "jose";
import { createDb } from "../../db/client.js";
import { claimSignInToken } from "../../db/sign-in-tokens.js";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { CLOCK_SKEW_SECONDS, verifyPremiumToken, type Identity } from "../identity/tokens.js";
import { iso } from "../../lib/time.js";

const SIGN_IN_LINK_MAX_LIFETIME_SECONDS = 300;

export async function exchangeSignInLink(d1: D1Database, token: string, config: Config): Promise<Identity> {
  const identity = await verifyPremiumToken(token, config);
  const { jti, iat, exp } = decodeJwt(token);
  if (typeof jti !== "string" || jti.length < 8 || jti.length > 128) {
    throw new ApiError("UNAUTHORIZED", "Sign-in link token must carry a jti (8-128 characters)");
  }
  // Every time is checked against now (with the documented skew), not only against each other: a
  // token with a future iat would otherwise live as long as its signer liked.
  const now = Math.floor(Date.now() / 1000);
  if (
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    exp - iat > SIGN_IN_LINK_MAX_LIFETIME_SECONDS ||
    iat > now + CLOCK_SKEW_SECONDS ||
    exp > now + SIGN_IN_LINK_MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS
  ) {
    throw new ApiError(
      "UNAUTHORIZED",
      `Sign-in link token must carry iat (not in the future) and expire within ${SIGN_IN_LINK_MAX_LIFETIME_SECONDS} seconds of it and of now`,
    );
  }
  // A jti only needs remembering while its token could still verify; older ones are forgotten.
  const fresh = await claimSignInToken(createDb(d1), jti, identity.orgId, iso(exp * 1000), iso(Date.now() - 3600_000));
  if (!fresh) throw new ApiError("UNAUTHORIZED", "Sign-in link token was already used");
  return identity;
}

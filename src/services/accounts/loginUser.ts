import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { clearLoginThrottle, getLoginThrottle, recordLoginFailure } from "../../db/login-throttle.js";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { sha256Hex } from "../../lib/hash.js";
import { iso } from "../../lib/time.js";
import { dummyHash, verifyPassword } from "../identity/passwords.js";
import { LOGIN_TOKEN_TTL_SECONDS, mintPremiumToken } from "../identity/tokens.js";

/** Failures a (account, address) pair may make before each further attempt has to wait. */
export const FREE_LOGIN_FAILURES = 3;
const MAX_DELAY_SECONDS = 15 * 60;
const FORGET_AFTER_MS = 24 * 3600_000;

/** The wait before the next attempt after `failures` failures: 0, then 1 s, 2 s, 4 s … at most 15 minutes. */
export function loginDelaySeconds(failures: number): number {
  return failures < FREE_LOGIN_FAILURES ? 0 : Math.min(MAX_DELAY_SECONDS, 2 ** (failures - FREE_LOGIN_FAILURES));
}

export interface LoginResult {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
}

const invalid = () => new ApiError("UNAUTHORIZED", "Invalid email or password");

/**
 * Password login. Unknown email, wrong password and inactive account all get the same answer after
 * the same work (a PBKDF2 run), so the response never tells whether the email exists.
 *
 * Failures are throttled per (email, client address) pair, never per account alone: after
 * FREE_LOGIN_FAILURES failures each further attempt from that address for that email must wait an
 * exponentially growing delay, answered with 429 and Retry-After (without checking the password).
 * A stranger guessing from elsewhere therefore slows only their own pair: the owner, from their own
 * address, signs in as usual. The per-address rate limit on /auth/* bounds guessing across many
 * accounts (middleware/rate-limit.ts).
 */
export async function loginUser({
  db,
  config,
  email,
  password,
  clientAddress,
}: {
  db: Database;
  config: Config;
  email: string;
  password: string;
  clientAddress: string;
}): Promise<LoginResult> {
  const normalized = email.trim().toLowerCase();
  const key = await sha256Hex(`${normalized}\n${clientAddress}`);
  const now = Date.now();
  const throttle = await getLoginThrottle(db, key);
  if (throttle && Date.parse(throttle.blockedUntil) > now) {
    const wait = Math.ceil((Date.parse(throttle.blockedUntil) - now) / 1000);
    throw new ApiError(
      "QUOTA_EXCEEDED",
      `Too many failed sign-ins for this email from this address; try again in ${wait} s`,
      { quota_type: "rate_limit", limit: "login_failures", retry_after_seconds: wait },
      { retryAfterSeconds: wait },
    );
  }
  const [user] = await db.select().from(schema.users).where(eq(schema.users.email, normalized)).limit(1);
  const ok = user?.hashedPassword ? await verifyPassword(password, user.hashedPassword) : await verifyPassword(password, await dummyHash()).then(() => false);
  if (!user || !ok || !user.isActive) {
    // The wait counts from the answer, not from the request (the password check itself takes time).
    const at = Date.now();
    await recordLoginFailure(db, key, iso(at), (failures) => iso(at + loginDelaySeconds(failures) * 1000), iso(at - FORGET_AFTER_MS));
    throw invalid();
  }
  if (throttle) await clearLoginThrottle(db, key);
  const token = await mintPremiumToken({ userId: user.id, orgId: user.organizationId, email: user.email, isAdmin: user.isAdmin }, config);
  return { access_token: token, token_type: "bearer", expires_in: LOGIN_TOKEN_TTL_SECONDS };
}

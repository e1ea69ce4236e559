import { eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { dummyHash, verifyPassword } from "../identity/passwords.js";
import { LOGIN_TOKEN_TTL_SECONDS, mintPremiumToken } from "../identity/tokens.js";
import { iso } from "../../lib/time.js";
import { clearLoginFailures, recordLoginFailure } from "../../db/organizations.js";

export const MAX_FAILED_LOGINS = 5;
const LOCKOUT_SECONDS = 15 * 60;

export interface LoginResult {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
}

const invalid = () => new ApiError("UNAUTHORIZED", "Invalid email or password");

/**
 * Password login. Unknown email, wrong password, inactive or locked account all get the same answer
 * after the same work (a PBKDF2 run), so the response never tells whether the email exists. After
 * MAX_FAILED_LOGINS failures the account is locked for LOCKOUT_SECONDS.
 */
export async function loginUser({ db, config, email, password }: { db: Database; config: Config; email: string; password: string }): Promise<LoginResult> {
  const normalized = email.trim().toLowerCase();
  const [user] = await db.select().from(schema.users).where(eq(schema.users.email, normalized)).limit(1);
  const now = Date.now();
  if (!user || !user.hashedPassword) {
    await verifyPassword(password, await dummyHash());
    throw invalid();
  }
  const locked = user.lockedUntil !== null && Date.parse(user.lockedUntil) > now;
  const ok = await verifyPassword(password, user.hashedPassword);
  if (locked || !ok || !user.isActive) {
    if (!locked && !ok) {
      const failures = user.failedLoginCount + 1;
      const lockedUntil = failures >= MAX_FAILED_LOGINS ? iso(now + LOCKOUT_SECONDS * 1000) : user.lockedUntil;
      await recordLoginFailure(db, user.id, failures, MAX_FAILED_LOGINS, lockedUntil);
    }
    throw invalid();
  }
  if (user.failedLoginCount || user.lockedUntil) {
    await clearLoginFailures(db, user.id);
  }
  const token = await mintPremiumToken({ userId: user.id, orgId: user.organizationId, email: user.email, isAdmin: user.isAdmin }, config);
  return { access_token: token, token_type: "bearer", expires_in: LOGIN_TOKEN_TTL_SECONDS };
}

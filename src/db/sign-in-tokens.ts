import { lt } from "drizzle-orm";
import type { Database } from "./client.js";
import { schema } from "./client.js";

/** Records a sign-in link token id; false when it was used before. Forgets ids long expired. */
export async function claimSignInToken(db: Database, jti: string, orgId: string, expiresAtIso: string, forgetBeforeIso: string): Promise<boolean> {
  const t = schema.usedSignInTokens;
  const inserted = await db.insert(t).values({ jti, organizationId: orgId, expiresAt: expiresAtIso }).onConflictDoNothing().returning({ jti: t.jti });
  await db.delete(t).where(lt(t.expiresAt, forgetBeforeIso));
  return inserted.length > 0;
}

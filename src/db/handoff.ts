import { lt } from "drizzle-orm";
import type { Database } from "./client.js";
import { schema } from "./client.js";

/** Records a hand-off token id; false when it was used before. Forgets ids long expired. */
export async function claimHandoffJti(db: Database, jti: string, orgId: string, expiresAtIso: string, forgetBeforeIso: string): Promise<boolean> {
  const t = schema.usedHandoffTokens;
  const inserted = await db.insert(t).values({ jti, organizationId: orgId, expiresAt: expiresAtIso }).onConflictDoNothing().returning({ jti: t.jti });
  await db.delete(t).where(lt(t.expiresAt, forgetBeforeIso));
  return inserted.length > 0;
}

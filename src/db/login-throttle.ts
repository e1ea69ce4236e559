import { eq, lt, sql } from "drizzle-orm";
import type { Database } from "./client.js";
import { schema } from "./client.js";

export interface ThrottleRow {
  failures: number;
  blockedUntil: string;
}

export async function getLoginThrottle(db: Database, key: string): Promise<ThrottleRow | null> {
  const t = schema.loginThrottle;
  const [row] = await db.select({ failures: t.failures, blockedUntil: t.blockedUntil }).from(t).where(eq(t.key, key)).limit(1);
  return row ?? null;
}

/**
 * Counts a failed sign-in for a key and sets when the next attempt may come (from the new count,
 * computed by `blockedUntil`); returns the new count. Forgets keys idle since `forgetBeforeIso`.
 */
export async function recordLoginFailure(db: Database, key: string, nowIso: string, blockedUntil: (failures: number) => string, forgetBeforeIso: string): Promise<number> {
  const t = schema.loginThrottle;
  const current = await getLoginThrottle(db, key);
  const failures = (current?.failures ?? 0) + 1;
  await db
    .insert(t)
    .values({ key, failures, blockedUntil: blockedUntil(failures), updatedAt: nowIso })
    .onConflictDoUpdate({ target: t.key, set: { failures: sql`excluded.failures`, blockedUntil: sql`excluded.blocked_until`, updatedAt: sql`excluded.updated_at` } });
  await db.delete(t).where(lt(t.updatedAt, forgetBeforeIso));
  return failures;
}

export async function clearLoginThrottle(db: Database, key: string): Promise<void> {
  await db.delete(schema.loginThrottle).where(eq(schema.loginThrottle.key, key));
}

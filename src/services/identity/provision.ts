/**
 * The base application owns identity: the first valid token for an organization or user this service
 * has not seen provisions them (organization on the free tier, user linked to it). Idempotent.
 */
import { createDb, schema } from "../../db/client.js";
import type { Identity } from "./tokens.js";
import { isoNow } from "../../lib/time.js";

const known = new Set<string>();
const KNOWN_MAX = 10_000;

export async function provisionIdentity(d1: D1Database, id: Identity): Promise<void> {
  const key = `${id.orgId}/${id.userId}`;
  if (known.has(key)) return;
  const db = createDb(d1);
  const now = isoNow();
  await db.batch([
    db
      .insert(schema.organizations)
      .values({ id: id.orgId, name: `Organization ${id.orgId.slice(0, 8)}`, slug: `org-${id.orgId}`, createdAt: now, updatedAt: now })
      .onConflictDoNothing(),
    // A user whose email is already taken by another account stays unprovisioned here; the token
    // still authenticates (identity is the base application's), only the local profile is skipped.
    db
      .insert(schema.users)
      .values({ id: id.userId, organizationId: id.orgId, email: id.email, isAdmin: id.isAdmin, createdAt: now })
      .onConflictDoNothing(),
  ]);
  if (known.size >= KNOWN_MAX) known.clear();
  known.add(key);
}

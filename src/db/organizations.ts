/**
 * The one writer of D1 `organizations` and `users` (a user belongs to its organization and is
 * written with it). Ledger deliveries add a missing organization row and its cached balance through
 * the statements here too (db/mirror.ts).
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "./client.js";
import { jsonRowsSelect, schema } from "./client.js";
import { isoNow } from "../lib/time.js";

/** The organization and user a base-app token names, where missing (first valid token). */
export async function provisionOrganizationAndUser(
  db: Database,
  id: { orgId: string; userId: string; email: string; isAdmin: boolean },
): Promise<void> {
  const now = isoNow();
  await db.batch([
    db
      .insert(schema.organizations)
      .values({ id: id.orgId, name: `Organization ${id.orgId.slice(0, 8)}`, slug: `org-${id.orgId}`, createdAt: now, updatedAt: now })
      .onConflictDoNothing(),
    // A user whose email is already taken by another account stays unprovisioned here; the token
    // still authenticates (identity is the base application's), only the local profile is skipped.
    db.insert(schema.users).values({ id: id.userId, organizationId: id.orgId, email: id.email, isAdmin: id.isAdmin, createdAt: now }).onConflictDoNothing(),
  ]);
}

/** A registered organization with its admin user, atomically (a taken email fails the batch). */
export async function insertOrganizationWithAdmin(
  db: Database,
  org: { id: string; name: string; slug: string },
  user: { id: string; email: string; name: string; hashedPassword: string },
  now: string,
): Promise<void> {
  await db.batch([
    db.insert(schema.organizations).values({ ...org, createdAt: now, updatedAt: now }),
    db.insert(schema.users).values({ ...user, organizationId: org.id, isAdmin: true, createdAt: now }),
  ]);
}

/** Records the organization's Stripe customer, unless one was recorded first (a racing request). */
export async function setStripeCustomer(db: Database, orgId: string, customerId: string): Promise<void> {
  await db
    .update(schema.organizations)
    .set({ stripeCustomerId: customerId, updatedAt: isoNow() })
    .where(and(eq(schema.organizations.id, orgId), isNull(schema.organizations.stripeCustomerId)));
}

export async function setDefaultVexPolicy(db: Database, orgId: string, policy: "standard" | "strict"): Promise<void> {
  await db.update(schema.organizations).set({ defaultVexPolicy: policy, updatedAt: isoNow() }).where(eq(schema.organizations.id, orgId));
}

const ORGANIZATION_COLUMNS = ["id", "name", "slug", "created_at", "updated_at"] as const;

/** Organization rows where missing, for ledger deliveries (entries reference their organization). */
export function missingOrganizationsStatement(d1: D1Database, orgs: { id: string; createdAt: string }[]): D1PreparedStatement {
  const now = isoNow();
  const rows = orgs.map((o) => [o.id, `Organization ${o.id.slice(0, 8)}`, `org-${o.id}`, o.createdAt, now]);
  return d1
    .prepare(`INSERT INTO organizations (${ORGANIZATION_COLUMNS.join(", ")}) ${jsonRowsSelect(ORGANIZATION_COLUMNS)} ON CONFLICT DO NOTHING`)
    .bind(JSON.stringify(rows));
}

/** The cached balances, each following only the subscription snapshot now in D1 (same ledger_version). */
export function cachedBalancesStatement(d1: D1Database, accounts: { orgId: string; balance: number; version: number }[]): D1PreparedStatement {
  return d1
    .prepare(
      `UPDATE organizations SET credit_balance = s.value ->> 1, updated_at = ? FROM json_each(?) AS s
       WHERE organizations.id = s.value ->> 0
         AND (SELECT ledger_version FROM subscriptions WHERE organization_id = organizations.id) = s.value ->> 2`,
    )
    .bind(isoNow(), JSON.stringify(accounts.map((a) => [a.orgId, a.balance, a.version])));
}

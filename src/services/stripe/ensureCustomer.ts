import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { ApiError } from "../../errors/api-error.js";
import { callStripe, type Stripe } from "./client.js";
import { setStripeCustomer } from "../../db/organizations.js";

/**
 * The organization's Stripe customer, created on first need. Race-safe: concurrent callers send the
 * same parameters under the same Idempotency-Key (derived from the organization id), so Stripe
 * creates one customer and replays it to the others; the id is stored with a conditional UPDATE that
 * only fills an empty column, and everyone returns what the row holds afterwards.
 */
export async function ensureStripeCustomer({ db, stripe, orgId }: { db: Database; stripe: Stripe; orgId: string }): Promise<string> {
  const org = await readOrg(db, orgId);
  if (org.stripeCustomerId) return org.stripeCustomerId;
  const customer = await callStripe("create a customer", () =>
    stripe.customers.create(
      { name: org.name, metadata: { organization_id: orgId } },
      { idempotencyKey: `vexxy-customer-${orgId}` },
    ),
  );
  await setStripeCustomer(db, orgId, customer.id);
  const after = await readOrg(db, orgId);
  return after.stripeCustomerId ?? customer.id;
}

async function readOrg(db: Database, orgId: string) {
  const [org] = await db.select().from(schema.organizations).where(eq(schema.organizations.id, orgId)).limit(1);
  if (!org) throw new ApiError("RESOURCE_NOT_FOUND", "Organization not found");
  return org;
}

/** The organization a Stripe customer belongs to, or null when the customer is not ours. */
export async function orgForCustomer(db: Database, customerId: string): Promise<string | null> {
  const [org] = await db
    .select({ id: schema.organizations.id })
    .from(schema.organizations)
    .where(eq(schema.organizations.stripeCustomerId, customerId))
    .limit(1);
  return org?.id ?? null;
}

import { eq } from "drizzle-orm";
import type { Database } from "./client.js";
import { schema } from "./client.js";
import { isoNow } from "../lib/time.js";

/** The one writer of D1 `processed_stripe_events`: which Stripe events were handled, once each. */
export async function stripeEventSeen(db: Database, eventId: string): Promise<{ organizationId: string | null; processedAt: string } | null> {
  const [seen] = await db.select().from(schema.processedStripeEvents).where(eq(schema.processedStripeEvents.id, eventId)).limit(1);
  return seen ?? null;
}

export async function markStripeEventProcessed(db: Database, event: { id: string; type: string }, orgId: string | null): Promise<void> {
  await db.insert(schema.processedStripeEvents).values({ id: event.id, type: event.type, organizationId: orgId, processedAt: isoNow() }).onConflictDoNothing();
}

import { desc, eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { ledgerFor } from "../../ledger/client.js";

export interface BillingEventView {
  id: string;
  organization_id: string;
  event_type: string;
  description: string;
  analysis_job_id: string | null;
  credits_amount: number;
  balance_after: number;
  grant_amount: number;
  purchased_amount: number;
  held_amount: number;
  stripe_event_id: string | null;
  created_at: string;
}

/**
 * The organization's billing history, newest first, from the D1 mirror of its ledger. The ledger
 * mirrors in batches (at most every OUTBOX_MIN_INTERVAL_MS under load), so it is asked to mirror
 * what it has not yet before the read: the history always includes the latest entry.
 */
export async function listBillingEvents({ env, db, orgId, limit, offset }: { env: Env; db: Database; orgId: string; limit: number; offset: number }): Promise<BillingEventView[]> {
  await ledgerFor(env, orgId).flushOutbox(orgId);
  const rows = await db
    .select()
    .from(schema.billingEvents)
    .where(eq(schema.billingEvents.organizationId, orgId))
    .orderBy(desc(schema.billingEvents.ledgerSeq))
    .limit(limit)
    .offset(offset);
  return rows.map((r) => ({
    id: r.id,
    organization_id: r.organizationId,
    event_type: r.eventType,
    description: r.description,
    analysis_job_id: r.analysisJobId,
    credits_amount: r.creditsAmount,
    balance_after: r.balanceAfter,
    grant_amount: r.grantAmount,
    purchased_amount: r.purchasedAmount,
    held_amount: r.heldAmount,
    stripe_event_id: r.stripeEventId,
    created_at: r.createdAt,
  }));
}

import { desc, eq } from "drizzle-orm";
import type { Database } from "../../db/client.js";
import { schema } from "../../db/client.js";
import { ledgerFor } from "../../ledger/client.js";
import type { LedgerEntry } from "../../ledger/interface.js";

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
 * The organization's billing history, newest first: D1's copy of its ledger, plus the entries the
 * ledger has not delivered yet (the newest), so the history always includes the latest entry.
 */
export async function listBillingEvents({ env, db, orgId, limit, offset }: { env: Env; db: Database; orgId: string; limit: number; offset: number }): Promise<BillingEventView[]> {
  const [{ entries }, rows] = await Promise.all([
    ledgerFor(env, orgId).undelivered(orgId) as unknown as Promise<{ entries: LedgerEntry[] }>,
    db
      .select()
      .from(schema.billingEvents)
      .where(eq(schema.billingEvents.organizationId, orgId))
      .orderBy(desc(schema.billingEvents.ledgerSeq))
      .limit(limit + offset),
  ]);
  // Undelivered entries are newer than every delivered one; a delivery finishing between the two
  // reads can list an entry in both, once.
  const stored = rows.map((r) => ({ seq: r.ledgerSeq, view: storedView(r) }));
  const held = entries.map((e) => ({ seq: e.seq, view: entryView(orgId, e) }));
  const seen = new Set<string>();
  return [...held, ...stored]
    .sort((a, b) => b.seq - a.seq)
    .filter((x) => (seen.has(x.view.id) ? false : (seen.add(x.view.id), true)))
    .slice(offset, offset + limit)
    .map((x) => x.view);
}

function entryView(orgId: string, e: LedgerEntry): BillingEventView {
  return {
    id: e.id,
    organization_id: orgId,
    event_type: e.type,
    description: e.description,
    analysis_job_id: e.job_id,
    credits_amount: e.amount,
    balance_after: e.balance_after,
    grant_amount: e.grant_amount,
    purchased_amount: e.purchased_amount,
    held_amount: e.held_amount,
    stripe_event_id: e.stripe_event_id,
    created_at: e.created_at,
  };
}

function storedView(r: typeof schema.billingEvents.$inferSelect): BillingEventView {
  return {
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
  };
}

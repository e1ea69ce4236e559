/**
 * Writes a ledger object's outbox to D1: entries become billing_events (INSERT OR IGNORE by id, so a
 * retried drain is a no-op) and the account snapshot updates the subscription row and the
 * organization's cached balance — never replacing a newer snapshot (ledger_version guard).
 */
import { sql } from "drizzle-orm";
import { createDb, schema } from "./client.js";
import type { AccountView, LedgerEntry } from "../ledger/interface.js";
import { isoNow } from "../lib/time.js";

const ROWS_PER_STATEMENT = 7;

export async function mirrorLedger(d1: D1Database, account: AccountView, entries: LedgerEntry[]): Promise<void> {
  const db = createDb(d1);
  const now = isoNow();
  const org = account.organization_id;
  // The ledger only exists for a known organization; make sure D1 has its row before the history
  // that references it (a ledger touched before the catalog row was written still mirrors).
  const statements: unknown[] = [
    db
      .insert(schema.organizations)
      .values({ id: org, name: `Organization ${org.slice(0, 8)}`, slug: `org-${org}`, createdAt: account.created_at, updatedAt: now })
      .onConflictDoNothing(),
  ];
  // Each entry's stripe_event_id is unique in D1; entries share an event only for its first effect.
  const seenStripe = new Set<string>();
  // D1 allows 100 bound parameters per statement: billing_events has 14 columns, so 7 rows a statement.
  const rows = entries.map((e) => {
    const stripeEventId = e.stripe_event_id && !seenStripe.has(e.stripe_event_id) ? e.stripe_event_id : null;
    if (stripeEventId) seenStripe.add(stripeEventId);
    return {
      id: e.id,
      organizationId: org,
      eventType: e.type,
      description: e.description,
      analysisJobId: e.job_id,
      creditsAmount: e.amount,
      balanceAfter: e.balance_after,
      grantAmount: e.grant_amount,
      purchasedAmount: e.purchased_amount,
      heldAmount: e.held_amount,
      stripeEventId,
      stripeObjectId: e.stripe_object_id,
      ledgerSeq: e.seq,
      createdAt: e.created_at,
    };
  });
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(db.insert(schema.billingEvents).values(rows.slice(i, i + ROWS_PER_STATEMENT)).onConflictDoNothing());
  }
  const sub = {
    id: account.subscription_id,
    organizationId: org,
    tier: account.tier,
    status: account.status,
    monthlyAnalysisLimit: account.monthly_analysis_limit,
    monthlyCreditLimit: account.monthly_credit_limit,
    currentPeriodAnalyses: account.current_period_analyses,
    currentPeriodCreditsUsed: account.current_period_credits_used,
    currentPeriodStart: account.current_period_start,
    currentPeriodEnd: account.current_period_end,
    trialEnd: account.trial_end,
    cancelAtPeriodEnd: account.cancel_at_period_end,
    stripeSubscriptionId: account.stripe_subscription_id,
    ledgerVersion: account.version,
    createdAt: account.created_at,
    updatedAt: now,
  };
  const { id: _id, organizationId: _org, createdAt: _c, ...updatable } = sub;
  statements.push(
    db
      .insert(schema.subscriptions)
      .values(sub)
      .onConflictDoUpdate({
        target: schema.subscriptions.organizationId,
        set: updatable,
        setWhere: sql`${schema.subscriptions.ledgerVersion} < ${account.version}`,
      }),
    db
      .update(schema.organizations)
      .set({ creditBalance: account.balance, updatedAt: now })
      .where(sql`${schema.organizations.id} = ${org}`),
  );
  await db.batch(statements as unknown as Parameters<typeof db.batch>[0]);
}

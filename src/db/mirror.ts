/**
 * Writes a ledger object's outbox to D1 in one batch: entries become billing_events (a conflict on id
 * does nothing, so a retried drain is a no-op) and the account snapshot updates the subscription row and the
 * organization's cached balance — never replacing a newer snapshot (ledger_version guard).
 */
import { sql } from "drizzle-orm";
import { createDb, jsonRowsSelect, schema } from "./client.js";
import type { AccountView, LedgerEntry } from "../ledger/interface.js";
import { isoNow } from "../lib/time.js";

const BILLING_EVENT_COLUMNS = [
  "id", "organization_id", "event_type", "description", "analysis_job_id", "credits_amount", "balance_after", "grant_amount",
  "purchased_amount", "held_amount", "stripe_event_id", "stripe_object_id", "ledger_seq", "created_at",
] as const;

export async function mirrorLedger(d1: D1Database, account: AccountView, entries: LedgerEntry[]): Promise<void> {
  const db = createDb(d1);
  const now = isoNow();
  const org = account.organization_id;
  // The ledger only exists for a known organization; make sure D1 has its row before the history
  // that references it (a ledger touched before the catalog row was written still mirrors).
  const orgRow = db
    .insert(schema.organizations)
    .values({ id: org, name: `Organization ${org.slice(0, 8)}`, slug: `org-${org}`, createdAt: account.created_at, updatedAt: now })
    .onConflictDoNothing();
  // Each entry's stripe_event_id is unique in D1; entries share an event only for its first effect.
  // All entries go in as one JSON parameter expanded by json_each: one statement however many
  // there are (bound parameters are limited to 100 per statement; one of them is enough).
  const seenStripe = new Set<string>();
  const rows = entries.map((e) => {
    const stripeEventId = e.stripe_event_id && !seenStripe.has(e.stripe_event_id) ? e.stripe_event_id : null;
    if (stripeEventId) seenStripe.add(stripeEventId);
    return [
      e.id, org, e.type, e.description, e.job_id, e.amount, e.balance_after, e.grant_amount,
      e.purchased_amount, e.held_amount, stripeEventId, e.stripe_object_id, e.seq, e.created_at,
    ];
  });
  const statements: D1PreparedStatement[] = [toD1(d1, orgRow)];
  if (rows.length) {
    statements.push(
      d1
        .prepare(
          `INSERT INTO billing_events (${BILLING_EVENT_COLUMNS.join(", ")}) ${jsonRowsSelect(BILLING_EVENT_COLUMNS)} ON CONFLICT DO NOTHING`,
        )
        .bind(JSON.stringify(rows)),
    );
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
    toD1(d1, db
      .insert(schema.subscriptions)
      .values(sub)
      .onConflictDoUpdate({
        target: schema.subscriptions.organizationId,
        set: updatable,
        setWhere: sql`${schema.subscriptions.ledgerVersion} < ${account.version}`,
      })),
    toD1(d1, db
      .update(schema.organizations)
      .set({ creditBalance: account.balance, updatedAt: now })
      .where(sql`${schema.organizations.id} = ${org}`)),
  );
  await d1.batch(statements);
}

/** A drizzle query as a D1 statement, so it can share one D1 batch with hand-written SQL. */
function toD1(d1: D1Database, query: { toSQL(): { sql: string; params: unknown[] } }): D1PreparedStatement {
  const { sql: text, params } = query.toSQL();
  return d1.prepare(text).bind(...params);
}

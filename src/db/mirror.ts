/**
 * What a ledger object delivers to D1, in one batch per round: its new jobs (INSERT OR IGNORE by
 * id), its entries as billing_events (a conflict on id does nothing, so a retried round is a
 * no-op), and its account snapshot, which updates the subscription row and the organization's
 * cached balance only when newer than D1's (ledger_version guard).
 */
import { jsonRowsSelect } from "./client.js";
import { newJobsStatement, type NewJobRecord } from "./jobs.js";
import { cachedBalancesStatement, missingOrganizationsStatement } from "./organizations.js";
import type { AccountView, LedgerEntry } from "../ledger/interface.js";
import { isoNow } from "../lib/time.js";

const BILLING_EVENT_COLUMNS = [
  "id", "organization_id", "event_type", "description", "analysis_job_id", "credits_amount", "balance_after", "grant_amount",
  "purchased_amount", "held_amount", "stripe_event_id", "stripe_object_id", "ledger_seq", "created_at",
] as const;
const SUBSCRIPTION_COLUMNS = [
  "id", "organization_id", "tier", "status", "monthly_analysis_limit", "monthly_credit_limit", "current_period_analyses",
  "current_period_credits_used", "current_period_start", "current_period_end", "trial_end", "cancel_at_period_end",
  "stripe_subscription_id", "ledger_version", "created_at", "updated_at",
] as const;
const SUBSCRIPTION_UPDATED = SUBSCRIPTION_COLUMNS.filter((c) => c !== "id" && c !== "organization_id" && c !== "created_at");

/**
 * One delivery round of one ledger object, atomically: the organization row when the object has not
 * yet made sure of it, then jobs (their entries name them), entries and the account snapshot.
 */
export async function deliverLedger(
  d1: D1Database,
  account: AccountView,
  jobs: NewJobRecord[],
  entries: LedgerEntry[],
  ensureOrganization: boolean,
): Promise<void> {
  const org = account.organization_id;
  await d1.batch([
    ...(ensureOrganization ? [missingOrganizationsStatement(d1, [{ id: account.organization_id, createdAt: account.created_at }])] : []),
    ...(jobs.length ? [newJobsStatement(d1, jobs)] : []),
    ...(entries.length ? [entryRows(d1, entries.map((entry) => ({ org, entry })))] : []),
    ...snapshotStatements(d1, [account]),
  ]);
}

/**
 * Entries as billing_events, one JSON parameter (json_each) however many: D1 binds at most 100
 * parameters per statement. A conflict can only be a retried round (id, or organization + seq).
 */
function entryRows(d1: D1Database, entries: { org: string; entry: LedgerEntry }[]): D1PreparedStatement {
  const rows = entries.map(({ org, entry: e }) => [
    e.id, org, e.type, e.description, e.job_id, e.amount, e.balance_after, e.grant_amount,
    e.purchased_amount, e.held_amount, e.stripe_event_id, e.stripe_object_id, e.seq, e.created_at,
  ]);
  return insertRows(d1, "billing_events", BILLING_EVENT_COLUMNS, rows, "ON CONFLICT DO NOTHING");
}

/** The subscription rows, then the cached balances, each following only a snapshot newer than D1's. */
function snapshotStatements(d1: D1Database, accounts: AccountView[]): D1PreparedStatement[] {
  const now = isoNow();
  return [
    insertRows(d1, "subscriptions", SUBSCRIPTION_COLUMNS, accounts.map((a) => [
      a.subscription_id, a.organization_id, a.tier, a.status, a.monthly_analysis_limit, a.monthly_credit_limit, a.current_period_analyses,
      a.current_period_credits_used, a.current_period_start, a.current_period_end, a.trial_end, a.cancel_at_period_end ? 1 : 0,
      a.stripe_subscription_id, a.version, a.created_at, now,
    ]), `ON CONFLICT (organization_id) DO UPDATE SET ${SUBSCRIPTION_UPDATED.map((c) => `${c} = excluded.${c}`).join(", ")}
       WHERE subscriptions.ledger_version < excluded.ledger_version`),
    // The cached balance follows the snapshot that is now in subscriptions, never an older one.
    cachedBalancesStatement(d1, accounts.map((a) => ({ orgId: a.organization_id, balance: a.balance, version: a.version }))),
  ];
}

function insertRows(d1: D1Database, table: string, columns: readonly string[], rows: unknown[][], conflict: string): D1PreparedStatement {
  return d1.prepare(`INSERT INTO ${table} (${columns.join(", ")}) ${jsonRowsSelect(columns)} ${conflict}`).bind(JSON.stringify(rows));
}

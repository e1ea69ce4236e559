-- billing_events.stripe_event_id was UNIQUE, and a ledger's delivery inserts its entries with
-- ON CONFLICT DO NOTHING: the second effect of one Stripe event (a refund's reversal after the purchase
-- it reverses, say) delivered in a later round was dropped from D1 without an error. Entries are
-- unique by id and by (organization_id, ledger_seq); the Stripe event id is a label every effect of
-- that event carries. SQLite cannot drop a column's constraint, so the table is rebuilt as it was,
-- without it. Nothing looks billing events up by Stripe event id: no index replaces it.
CREATE TABLE billing_events_rebuilt (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  event_type TEXT NOT NULL,
  description TEXT NOT NULL,
  analysis_job_id TEXT,
  credits_amount INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  grant_amount INTEGER NOT NULL DEFAULT 0,
  purchased_amount INTEGER NOT NULL DEFAULT 0,
  held_amount INTEGER NOT NULL DEFAULT 0,
  stripe_event_id TEXT,
  stripe_object_id TEXT,
  ledger_seq INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO billing_events_rebuilt (id, organization_id, event_type, description, analysis_job_id, credits_amount, balance_after,
  grant_amount, purchased_amount, held_amount, stripe_event_id, stripe_object_id, ledger_seq, created_at)
SELECT id, organization_id, event_type, description, analysis_job_id, credits_amount, balance_after,
  grant_amount, purchased_amount, held_amount, stripe_event_id, stripe_object_id, ledger_seq, created_at
FROM billing_events;
DROP TABLE billing_events;
ALTER TABLE billing_events_rebuilt RENAME TO billing_events;
CREATE UNIQUE INDEX billing_events_org_seq ON billing_events(organization_id, ledger_seq);

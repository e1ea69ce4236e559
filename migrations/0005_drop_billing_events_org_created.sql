-- The billing history is listed by (organization_id, ledger_seq DESC), which the unique index
-- billing_events_org_seq already serves: this second per-organization index was never read, and
-- every mirrored entry paid for it (a round of entries from many organizations dirties one leaf
-- per organization in each such index; see scripts/bench/index-scatter.mjs).
DROP INDEX IF EXISTS billing_events_org_created;

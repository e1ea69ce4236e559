-- Counters for the Prometheus endpoint (spec §11) that cannot be derived from state: quota
-- refusals and Stripe webhook processing (count and total seconds). Everything else it shows is
-- computed from the catalog (jobs by status, credits held and consumed).
CREATE TABLE metric_counters (
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (name, labels)
);

-- The relational catalog: organizations, users, subscriptions (a mirror of each organization's
-- ledger object), billing events (the ledger's history, mirrored through its outbox), API keys
-- (hashed) and processed Stripe events. Ids are UUIDs as text; timestamps ISO-8601 UTC text.

CREATE TABLE organizations (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  stripe_customer_id TEXT UNIQUE,
  credit_balance INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  hashed_password TEXT,
  is_active INTEGER NOT NULL DEFAULT 1,
  is_admin INTEGER NOT NULL DEFAULT 0,
  failed_login_count INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX users_organization_id ON users(organization_id);

CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL UNIQUE REFERENCES organizations(id),
  tier TEXT NOT NULL,
  status TEXT NOT NULL,
  monthly_analysis_limit INTEGER,
  monthly_credit_limit INTEGER,
  current_period_analyses INTEGER NOT NULL DEFAULT 0,
  current_period_credits_used INTEGER NOT NULL DEFAULT 0,
  current_period_start TEXT NOT NULL,
  current_period_end TEXT NOT NULL,
  trial_end TEXT,
  cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
  stripe_subscription_id TEXT UNIQUE,
  stripe_price_id TEXT,
  -- Version of the ledger state this row mirrors; a mirror write never replaces a newer one.
  ledger_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE billing_events (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  event_type TEXT NOT NULL,
  description TEXT NOT NULL,
  analysis_job_id TEXT,
  credits_amount INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  -- Which pool the entry moved: plan grant and purchased credits, signed.
  grant_amount INTEGER NOT NULL DEFAULT 0,
  purchased_amount INTEGER NOT NULL DEFAULT 0,
  held_amount INTEGER NOT NULL DEFAULT 0,
  stripe_event_id TEXT UNIQUE,
  stripe_object_id TEXT,
  ledger_seq INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX billing_events_org_seq ON billing_events(organization_id, ledger_seq);
CREATE INDEX billing_events_org_created ON billing_events(organization_id, created_at DESC, ledger_seq DESC);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_keys_organization_id ON api_keys(organization_id);

CREATE TABLE processed_stripe_events (
  id TEXT PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  organization_id TEXT,
  processed_at TEXT NOT NULL
);

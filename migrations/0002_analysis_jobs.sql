-- Analysis jobs: the catalog row of each premium runtime analysis. Large documents (inputs, VEX,
-- execution profile, reachability) live in R2; D1 keeps pointers, the state machine and a summary.
CREATE TABLE analysis_jobs (
  id TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organizations(id),
  user_id TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'analyzing', 'complete', 'failed', 'cancelled')),
  image_ref TEXT NOT NULL,
  image_digest TEXT NOT NULL,
  sbom_id TEXT,
  profile TEXT,
  -- The job's config without environment values (those are in environment_json, never returned by
  -- the API, and erased when the job ends).
  config_json TEXT NOT NULL,
  environment_json TEXT,
  sbom_key TEXT,
  vulnerabilities_key TEXT,
  results_key TEXT,
  max_cost INTEGER NOT NULL,
  cost_credits INTEGER,
  -- Billing outbox: 'held' until the job ends; 'to_settle'/'to_void' once the state machine decided;
  -- 'settled'/'voided' when the ledger confirmed. The cron sweep retries the middle states.
  billing_state TEXT NOT NULL DEFAULT 'held',
  progress_percent INTEGER NOT NULL DEFAULT 0,
  current_phase TEXT,
  error_code TEXT,
  error_message TEXT,
  security_summary_json TEXT,
  features_ran_json TEXT,
  sandbox_seconds REAL,
  estimated_duration_minutes INTEGER NOT NULL,
  dispatch_attempts INTEGER NOT NULL DEFAULT 0,
  dispatched_at TEXT,
  lease_expires_at TEXT,
  started_at TEXT,
  sandbox_started_at TEXT,
  completed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX analysis_jobs_org_created ON analysis_jobs(organization_id, created_at DESC, id DESC);
CREATE INDEX analysis_jobs_status_lease ON analysis_jobs(status, lease_expires_at);
CREATE INDEX analysis_jobs_billing ON analysis_jobs(billing_state) WHERE billing_state IN ('to_settle', 'to_void');

-- Nonces of signed runner callbacks seen within the signature window: a replay is refused.
CREATE TABLE runner_nonces (
  nonce TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL
);

/**
 * The ledger object's own SQLite schema (Durable Object storage, not D1). Every statement is
 * idempotent; an object runs them when its stored schema version is older than this one (a new
 * object, or one created by an older deploy), so bump the version with every change here. A
 * current object is constructed with one read instead of the whole list (objects are evicted when
 * idle and rebuilt on their next request).
 */
export const LEDGER_SCHEMA_VERSION = 1;

export const LEDGER_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    organization_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    tier TEXT NOT NULL,
    status TEXT NOT NULL,
    period_anchor INTEGER NOT NULL,
    period_index INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    stripe_managed INTEGER NOT NULL DEFAULT 0,
    period_analyses INTEGER NOT NULL DEFAULT 0,
    period_credits_used INTEGER NOT NULL DEFAULT 0,
    grant_remaining INTEGER NOT NULL DEFAULT 0,
    purchased_balance INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    trial_end INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    stripe_subscription_id TEXT,
    plan_source_ts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    amount INTEGER NOT NULL,
    grant_amount INTEGER NOT NULL,
    purchased_amount INTEGER NOT NULL,
    held_amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    held_after INTEGER NOT NULL,
    job_id TEXT,
    op_id TEXT,
    stripe_event_id TEXT,
    stripe_object_id TEXT,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    mirrored INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS entries_unmirrored ON entries(mirrored) WHERE mirrored = 0`,
  `CREATE TABLE IF NOT EXISTS holds (
    job_id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL,
    state TEXT NOT NULL,
    period_index INTEGER NOT NULL,
    placed_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0
  )`,
  `CREATE INDEX IF NOT EXISTS holds_pending ON holds(deadline) WHERE state = 'pending'`,
  `CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS ops (op_id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
  // Jobs admitted but not yet written to D1 and queued for dispatch (written in the admission's own
  // transaction, so a hold never exists without its job, nor a job without its hold).
  `CREATE TABLE IF NOT EXISTS job_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
  )`,
  // When the outboxes last drained. Kept in storage, not only in memory: an object evicted while
  // idle would otherwise come back with "never drained" and drain again at once.
  `CREATE TABLE IF NOT EXISTS drains (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mirror_at INTEGER NOT NULL DEFAULT 0,
    jobs_at INTEGER NOT NULL DEFAULT 0
  )`,
  `INSERT OR IGNORE INTO drains (id) VALUES (1)`,
  `CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
  `INSERT OR REPLACE INTO ledger_schema (id, version) VALUES (1, ${LEDGER_SCHEMA_VERSION})`,
];

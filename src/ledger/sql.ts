/**
 * The ledger object's own SQLite schema (Durable Object storage, not D1). Every statement is
 * idempotent; an object runs them when its stored schema version is older than this one (a new
 * object, or one created by an older deploy), so bump the version with every change here. A
 * current object is constructed with one read instead of the whole list (objects are evicted when
 * idle and rebuilt on their next request).
 */
export const LEDGER_SCHEMA_VERSION = 9;

/*
 * Version 2 writes fewer pages per admission (9.9 → 5.8 SQLite pages per admission commit, measured
 * with node:sqlite on these statements): an admission touches the account, one entry, one hold and
 * one outbox row, and each B-tree it touches is a page written at commit.
 * - entries: seq without AUTOINCREMENT (entries are never deleted, so max(seq) + 1 never reuses
 *   one, and sqlite_sequence is no longer written); id without UNIQUE (a random UUID that nothing
 *   here looks up; D1's billing_events primary key is where it must be unique).
 * - holds: WITHOUT ROWID, keyed by job_id: one B-tree instead of a table plus its key index.
 * - job_outbox: keyed by the seq of the job's hold_placed entry: no job_id index and no
 *   AUTOINCREMENT; seqs still only grow, so jobs are delivered in admission order.
 *
 * Version 3: the object delivers its own outbox right after each commit (no drain intervals to
 * remember), and `entries.mirrored` has one meaning: 1 once the entry is in D1.
 *
 * Version 4: dispatch_watch — jobs delivered to the queue whose dispatch the object checks once
 * (a message lost with the queue's process leaves a job queued in D1 that no consumer ever saw).
 * Version 5: an index on its due time (the alarm sorted the whole table after every delivery).
 *
 * Version 6 → 7: account.grant_tier — the tier whose monthly grant has been posted for the current
 * period (NULL: none yet). A Stripe period's grant follows the payment of its invoice, not the period
 * change, so the two can be apart; an object upgraded from version 6 had posted its tier's grant
 * with every period change, so its grant_tier starts as its tier.
 *
 * Version 8: reversals — per refunded or disputed charge of a credit pack, how many of its credits
 * have been accounted for (taken back, or recorded as not recoverable), so a later refund or dispute
 * of the same charge takes back only what is still owed.
 *
 * Version 9: account.pending_tier / pending_at — a tier change Stripe will make at a later time (a
 * downgrade scheduled for the period's end), shown with the account until it happens.
 */
const ENTRIES = `(
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
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
  )`;
const ENTRY_COLUMNS =
  "seq, id, type, amount, grant_amount, purchased_amount, held_amount, balance_after, held_after, job_id, op_id, stripe_event_id, stripe_object_id, description, created_at, mirrored";
const HOLDS = `(
    job_id TEXT PRIMARY KEY,
    amount INTEGER NOT NULL,
    state TEXT NOT NULL,
    period_index INTEGER NOT NULL,
    placed_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID`;
const HOLD_COLUMNS = "job_id, amount, state, period_index, placed_at, deadline, posted";
// Jobs admitted but not yet written to D1 and queued for dispatch (written in the admission's own
// transaction, so a hold never exists without its job, nor a job without its hold). seq is the seq
// of the job's hold_placed entry.
const JOB_OUTBOX = `(
    seq INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL,
    record TEXT NOT NULL
  )`;

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
    grant_tier TEXT,
    pending_tier TEXT,
    pending_at INTEGER,
    plan_source_ts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS entries ${ENTRIES}`,
  `CREATE INDEX IF NOT EXISTS entries_unmirrored ON entries(mirrored) WHERE mirrored = 0`,
  `CREATE TABLE IF NOT EXISTS holds ${HOLDS}`,
  `CREATE INDEX IF NOT EXISTS holds_pending ON holds(deadline) WHERE state = 'pending'`,
  `CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS ops (op_id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS job_outbox ${JOB_OUTBOX}`,
  `CREATE TABLE IF NOT EXISTS dispatch_watch (job_id TEXT PRIMARY KEY, organization_id TEXT NOT NULL, due_at INTEGER NOT NULL, checks INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID`,
  // The alarm asks for the earliest and the due watches after every delivery: an index, not a sort.
  `CREATE INDEX IF NOT EXISTS dispatch_watch_due ON dispatch_watch(due_at)`,
  `CREATE TABLE IF NOT EXISTS reversals (charge_id TEXT PRIMARY KEY, payment_intent_id TEXT NOT NULL, accounted INTEGER NOT NULL) WITHOUT ROWID`,
  // The object's own timers that must outlive its instance (an idle object is evicted between alarms).
  `CREATE TABLE IF NOT EXISTS timers (name TEXT PRIMARY KEY, due_at INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS ledger_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)`,
  `INSERT OR REPLACE INTO ledger_schema (id, version) VALUES (1, ${LEDGER_SCHEMA_VERSION})`,
];

/**
 * Tables an object created before version 2 has in their old shape, rebuilt in the new one with
 * their rows (SQLite cannot drop a UNIQUE, an AUTOINCREMENT or add WITHOUT ROWID in place). Run in
 * one transaction before LEDGER_SCHEMA, which then recreates the indexes the old tables took with
 * them. Judged by each table's stored definition, so it is a no-op on a current table whatever the
 * recorded version says. An old outbox row is keyed by its entry's seq (kept in its record since
 * the hand-off carried entries, else looked up; failing both, a negative seq no entry can take).
 */
export function ledgerUpgrades(definitionOf: (table: string) => string | null): string[] {
  const stmts: string[] = [];
  const rebuild = (table: string, shape: string, columns: string, select: string) =>
    stmts.push(
      `CREATE TABLE ${table}_v2 ${shape}`,
      `INSERT INTO ${table}_v2 (${columns}) ${select}`,
      `DROP TABLE ${table}`,
      `ALTER TABLE ${table}_v2 RENAME TO ${table}`,
    );
  const entries = definitionOf("entries");
  if (entries && /AUTOINCREMENT|\bUNIQUE\b/i.test(entries)) rebuild("entries", ENTRIES, ENTRY_COLUMNS, `SELECT ${ENTRY_COLUMNS} FROM entries`);
  const holds = definitionOf("holds");
  if (holds && !/WITHOUT ROWID/i.test(holds)) rebuild("holds", HOLDS, HOLD_COLUMNS, `SELECT ${HOLD_COLUMNS} FROM holds`);
  const outbox = definitionOf("job_outbox");
  if (outbox && /AUTOINCREMENT|\bUNIQUE\b/i.test(outbox)) {
    rebuild(
      "job_outbox",
      JOB_OUTBOX,
      "seq, job_id, record",
      `SELECT COALESCE(json_extract(o.record, '$.holdEntrySeq'),
         (SELECT MIN(e.seq) FROM entries e WHERE e.job_id = o.job_id AND e.type = 'hold_placed'),
         -o.seq), o.job_id, o.record
       FROM job_outbox o ORDER BY o.seq`,
    );
  }
  const account = definitionOf("account");
  if (account && !/\bgrant_tier\b/.test(account)) stmts.push("ALTER TABLE account ADD COLUMN grant_tier TEXT", "UPDATE account SET grant_tier = tier");
  if (account && !/\bpending_tier\b/.test(account)) stmts.push("ALTER TABLE account ADD COLUMN pending_tier TEXT", "ALTER TABLE account ADD COLUMN pending_at INTEGER");
  if (definitionOf("drains")) {
    // Version 2 marked an admission's entry 1 while the Worker's hand-off carried it; an entry
    // whose job is still in the outbox may not be in D1 yet, so it is delivered again (idempotent).
    stmts.push("UPDATE entries SET mirrored = 0 WHERE seq IN (SELECT seq FROM job_outbox)", "DROP TABLE drains");
  }
  return stmts;
}

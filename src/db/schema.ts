/**
 * drizzle schema for the D1 catalog; mirrors migrations/*.sql (the migrations are the source of truth).
 *
 * Each table has one writer module, and nothing outside src/db/ writes to D1:
 *   organizations, users          db/organizations.ts
 *   subscriptions, billing_events db/mirror.ts (a ledger object's delivery)
 *   analysis_jobs, runner_nonces  db/jobs.ts (the job state machine; deliveries use its insert)
 *   processed_stripe_events       db/stripe-events.ts
 *   used_sign_in_tokens           db/sign-in-tokens.ts
 *   login_throttle                db/login-throttle.ts
 *   metric_counters               db/metrics.ts
 * Check: git grep -nE "\.(insert|update|delete)\(schema\.|INSERT INTO|DELETE FROM" -- src ':!src/db' ':!src/ledger/store.ts' ':!src/ledger/sql.ts'
 */
import { sqliteTable, text, integer, real, primaryKey } from "drizzle-orm/sqlite-core";
import type { JobStatus } from "../lib/job-status.js";

export const organizations = sqliteTable("organizations", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  stripeCustomerId: text("stripe_customer_id").unique(),
  creditBalance: integer("credit_balance").notNull().default(0),
  defaultVexPolicy: text("default_vex_policy", { enum: ["standard", "strict"] }).notNull().default("standard"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  organizationId: text("organization_id").notNull(),
  email: text("email").notNull().unique(),
  name: text("name"),
  hashedPassword: text("hashed_password"),
  isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
  isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
  createdAt: text("created_at").notNull(),
});

export const subscriptions = sqliteTable("subscriptions", {
  id: text("id").primaryKey(),
  organizationId: text("organization_id").notNull().unique(),
  tier: text("tier").notNull(),
  status: text("status").notNull(),
  monthlyAnalysisLimit: integer("monthly_analysis_limit"),
  monthlyCreditLimit: integer("monthly_credit_limit"),
  currentPeriodAnalyses: integer("current_period_analyses").notNull().default(0),
  currentPeriodCreditsUsed: integer("current_period_credits_used").notNull().default(0),
  currentPeriodStart: text("current_period_start").notNull(),
  currentPeriodEnd: text("current_period_end").notNull(),
  trialEnd: text("trial_end"),
  cancelAtPeriodEnd: integer("cancel_at_period_end", { mode: "boolean" }).notNull().default(false),
  stripeSubscriptionId: text("stripe_subscription_id").unique(),
  stripePriceId: text("stripe_price_id"),
  ledgerVersion: integer("ledger_version").notNull().default(0),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const billingEvents = sqliteTable("billing_events", {
  id: text("id").primaryKey(),
  organizationId: text("organization_id").notNull(),
  eventType: text("event_type").notNull(),
  description: text("description").notNull(),
  analysisJobId: text("analysis_job_id"),
  creditsAmount: integer("credits_amount").notNull(),
  balanceAfter: integer("balance_after").notNull(),
  grantAmount: integer("grant_amount").notNull().default(0),
  purchasedAmount: integer("purchased_amount").notNull().default(0),
  heldAmount: integer("held_amount").notNull().default(0),
  /** Every effect of one Stripe event carries its id (not unique: migration 0011). */
  stripeEventId: text("stripe_event_id"),
  stripeObjectId: text("stripe_object_id"),
  ledgerSeq: integer("ledger_seq").notNull(),
  createdAt: text("created_at").notNull(),
});

export const apiKeys = sqliteTable("api_keys", {
  id: text("id").primaryKey(),
  organizationId: text("organization_id").notNull(),
  userId: text("user_id").notNull(),
  name: text("name").notNull(),
  prefix: text("prefix").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  createdAt: text("created_at").notNull(),
  lastUsedAt: text("last_used_at"),
  revokedAt: text("revoked_at"),
});

export const processedStripeEvents = sqliteTable("processed_stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  organizationId: text("organization_id"),
  processedAt: text("processed_at").notNull(),
});

export const analysisJobs = sqliteTable("analysis_jobs", {
  id: text("id").primaryKey(),
  organizationId: text("organization_id").notNull(),
  userId: text("user_id").notNull(),
  status: text("status").$type<JobStatus>().notNull(),
  imageRef: text("image_ref").notNull(),
  imageDigest: text("image_digest").notNull(),
  sbomId: text("sbom_id"),
  profile: text("profile"),
  configJson: text("config_json").notNull(),
  environmentJson: text("environment_json"),
  sbomKey: text("sbom_key"),
  vulnerabilitiesKey: text("vulnerabilities_key"),
  resultsKey: text("results_key"),
  maxCost: integer("max_cost").notNull(),
  costCredits: integer("cost_credits"),
  billingState: text("billing_state").$type<BillingState>().notNull().default("held"),
  progressPercent: integer("progress_percent").notNull().default(0),
  currentPhase: text("current_phase"),
  errorCode: text("error_code"),
  errorMessage: text("error_message"),
  securitySummaryJson: text("security_summary_json"),
  featuresRanJson: text("features_ran_json"),
  sandboxSeconds: real("sandbox_seconds"),
  estimatedDurationMinutes: integer("estimated_duration_minutes").notNull(),
  dispatchAttempts: integer("dispatch_attempts").notNull().default(0),
  /** Decided at admission from the tier then (null on rows admitted before this column existed). */
  reachabilityVerdicts: integer("reachability_verdicts", { mode: "boolean" }),
  dispatchedAt: text("dispatched_at"),
  leaseExpiresAt: text("lease_expires_at"),
  startedAt: text("started_at"),
  sandboxStartedAt: text("sandbox_started_at"),
  completedAt: text("completed_at"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export const runnerNonces = sqliteTable("runner_nonces", {
  nonce: text("nonce").primaryKey(),
  expiresAt: integer("expires_at").notNull(),
});

export { JOB_STATUSES, type JobStatus } from "../lib/job-status.js";
export type BillingState = "held" | "to_settle" | "to_void" | "settled" | "voided";
export type JobRow = typeof analysisJobs.$inferSelect;

/** Sign-in link token ids already exchanged for a billing-page session (migrations/0003). */
export const usedSignInTokens = sqliteTable("used_sign_in_tokens", {
  jti: text("jti").primaryKey(),
  organizationId: text("organization_id").notNull(),
  expiresAt: text("expires_at").notNull(),
});

/** Failed password sign-ins per (account, client address) pair (migrations/0008). */
export const loginThrottle = sqliteTable("login_throttle", {
  key: text("key").primaryKey(),
  failures: integer("failures").notNull(),
  blockedUntil: text("blocked_until").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** Counters the metrics endpoint cannot derive from state (migrations/0009). */
export const metricCounters = sqliteTable(
  "metric_counters",
  { name: text("name").notNull(), labels: text("labels").notNull(), value: real("value").notNull() },
  (t) => [primaryKey({ columns: [t.name, t.labels] })],
);

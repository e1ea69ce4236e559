/**
 * Analysis job persistence. The job state machine is enforced HERE, in one place: every status change
 * is a conditional UPDATE that only succeeds from an allowed state, so duplicate, late or reordered
 * callbacks and racing cancels cannot move a job backwards or out of a terminal state.
 */
import { and, desc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "./client.js";
import { jsonRowsSelect, schema } from "./client.js";
import type { BillingState, JobRow } from "./schema.js";
import { TERMINAL, type JobStatus } from "../lib/job-status.js";
import { isoNow } from "../lib/time.js";

export { TERMINAL };

/** Allowed transitions: from → to. Terminal states have none. */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  queued: ["running", "analyzing", "failed", "cancelled"],
  running: ["analyzing", "complete", "failed", "cancelled"],
  analyzing: ["complete", "failed", "cancelled"],
  complete: [],
  failed: [],
  cancelled: [],
};

function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

export type NewJob = typeof schema.analysisJobs.$inferInsert;

/** What admission records of a new job: the columns a job starts with (the rest take their defaults). */
export interface NewJobRecord {
  id: string;
  organizationId: string;
  userId: string;
  imageRef: string;
  imageDigest: string;
  sbomId: string | null;
  profile: string | null;
  configJson: string;
  environmentJson: string;
  sbomKey: string | null;
  vulnerabilitiesKey: string | null;
  maxCost: number;
  estimatedDurationMinutes: number;
  /** Whether the organization's tier at admission unlocks runtime verdicts. */
  reachabilityVerdicts: boolean;
  createdAt: string;
}

const NEW_JOB_COLUMNS = [
  "id", "organization_id", "user_id", "status", "image_ref", "image_digest", "sbom_id", "profile", "config_json",
  "environment_json", "sbom_key", "vulnerabilities_key", "max_cost", "estimated_duration_minutes", "reachability_verdicts", "created_at", "updated_at",
] as const;
/** A new job as the submission describes it; admission adds its max_cost (the hold it placed). */
export type AdmittedJob = Omit<NewJobRecord, "maxCost" | "reachabilityVerdicts">;

/**
 * Admitted jobs in one statement (one JSON parameter expanded by json_each, so a round of any size
 * is one statement): INSERT OR IGNORE by id, so a retried write is a no-op and a job that has
 * since moved on is never reset. A ledger object's delivery runs it (deliverLedger).
 */
export function newJobsStatement(d1: D1Database, jobs: NewJobRecord[]): D1PreparedStatement {
  const rows = jobs.map((j) => [
    j.id, j.organizationId, j.userId, "queued", j.imageRef, j.imageDigest, j.sbomId, j.profile, j.configJson,
    j.environmentJson, j.sbomKey, j.vulnerabilitiesKey, j.maxCost, j.estimatedDurationMinutes, j.reachabilityVerdicts ? 1 : 0, j.createdAt, j.createdAt,
  ]);
  return d1
    .prepare(`INSERT OR IGNORE INTO analysis_jobs (${NEW_JOB_COLUMNS.join(", ")}) ${jsonRowsSelect(NEW_JOB_COLUMNS)} RETURNING id`)
    .bind(JSON.stringify(rows));
}

/** An admitted job as its D1 row will be once its ledger delivers it: queued, nothing run yet. */
export function admittedJobRow(j: NewJobRecord): JobRow {
  return {
    id: j.id, organizationId: j.organizationId, userId: j.userId, status: "queued", imageRef: j.imageRef, imageDigest: j.imageDigest,
    sbomId: j.sbomId, profile: j.profile, configJson: j.configJson, environmentJson: j.environmentJson, sbomKey: j.sbomKey,
    vulnerabilitiesKey: j.vulnerabilitiesKey, resultsKey: null, maxCost: j.maxCost, costCredits: null, billingState: "held",
    progressPercent: 0, currentPhase: null, errorCode: null, errorMessage: null, securitySummaryJson: null, featuresRanJson: null,
    sandboxSeconds: null, estimatedDurationMinutes: j.estimatedDurationMinutes, dispatchAttempts: 0,
    reachabilityVerdicts: j.reachabilityVerdicts, dispatchedAt: null, leaseExpiresAt: null, startedAt: null, sandboxStartedAt: null,
    completedAt: null, createdAt: j.createdAt, updatedAt: j.createdAt,
  };
}

/** A job of one organization; another organization's id is indistinguishable from a missing one. */
export async function getJob(db: Database, orgId: string, jobId: string): Promise<JobRow | null> {
  const [row] = await db
    .select()
    .from(schema.analysisJobs)
    .where(and(eq(schema.analysisJobs.organizationId, orgId), eq(schema.analysisJobs.id, jobId)))
    .limit(1);
  return row ?? null;
}

/** Several jobs by id (queue batches). */
export async function getJobsByIds(db: Database, jobIds: string[]): Promise<JobRow[]> {
  if (!jobIds.length) return [];
  return db.select().from(schema.analysisJobs).where(inArray(schema.analysisJobs.id, jobIds));
}

/** For internal callers that hold only a job id (runner callbacks, queue consumers). */
export async function getJobById(db: Database, jobId: string): Promise<JobRow | null> {
  const [row] = await db.select().from(schema.analysisJobs).where(eq(schema.analysisJobs.id, jobId)).limit(1);
  return row ?? null;
}

export async function listJobs(
  db: Database,
  orgId: string,
  opts: { status?: JobStatus; limit: number; cursor?: { createdAt: string; id: string } },
): Promise<JobRow[]> {
  const t = schema.analysisJobs;
  const conds = [eq(t.organizationId, orgId)];
  if (opts.status) conds.push(eq(t.status, opts.status));
  if (opts.cursor) {
    conds.push(or(lt(t.createdAt, opts.cursor.createdAt), and(eq(t.createdAt, opts.cursor.createdAt), lt(t.id, opts.cursor.id)))!);
  }
  return db.select().from(t).where(and(...conds)).orderBy(desc(t.createdAt), desc(t.id)).limit(opts.limit);
}

/**
 * Moves a job to `to` if its current status allows it; returns the updated row, or null when the
 * transition was not allowed (already terminal, or a concurrent change won).
 */
export async function transitionJob(
  db: Database,
  jobId: string,
  to: JobStatus,
  fields: Partial<Omit<NewJob, "id" | "status" | "organizationId">> = {},
): Promise<JobRow | null> {
  const t = schema.analysisJobs;
  const rows = await db
    .update(t)
    .set({ ...fields, status: to, updatedAt: isoNow() })
    .where(and(eq(t.id, jobId), inArray(t.status, sourcesOf(to))))
    .returning();
  return rows[0] ?? null;
}

/** Updates fields of a job that is still in one of `statuses` (progress, heartbeats, dispatch marks). */
export async function updateActiveJob(
  db: Database,
  jobId: string,
  statuses: JobStatus[],
  fields: Partial<Omit<NewJob, "id" | "status" | "organizationId">>,
): Promise<JobRow | null> {
  const rows = await activeJobUpdate(db, jobId, statuses, fields, isoNow()).returning();
  return rows[0] ?? null;
}

/** The conditional update both updateActiveJob and updateActiveJobs run (one job, or several by id). */
function activeJobUpdate(db: Database, ids: string | string[], statuses: JobStatus[], fields: ActiveJobUpdate["fields"], now: string) {
  const t = schema.analysisJobs;
  const idMatch = typeof ids === "string" ? eq(t.id, ids) : sql`${t.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;
  return db
    .update(t)
    .set({ ...fields, updatedAt: now })
    .where(and(idMatch, inArray(t.status, statuses)));
}

export interface ActiveJobUpdate {
  jobId: string;
  fields: Partial<Omit<NewJob, "id" | "status" | "organizationId">>;
}

/**
 * Several conditional updates (as updateActiveJob) in one D1 round trip. Jobs that get the same
 * fields share one statement (a queue batch's dispatch marks are usually all alike), their ids
 * one JSON parameter expanded by json_each.
 */
export async function updateActiveJobs(db: Database, updates: ActiveJobUpdate[], statuses: JobStatus[]): Promise<void> {
  if (!updates.length) return;
  const now = isoNow();
  const groups = new Map<string, { fields: ActiveJobUpdate["fields"]; ids: string[] }>();
  for (const u of updates) {
    const key = JSON.stringify(u.fields);
    const group = groups.get(key) ?? groups.set(key, { fields: u.fields, ids: [] }).get(key)!;
    group.ids.push(u.jobId);
  }
  const [first, ...rest] = [...groups.values()].map(({ fields, ids }) => activeJobUpdate(db, ids, statuses, fields, now));
  await db.batch([first!, ...rest]);
}

export async function setBillingState(db: Database, jobId: string, from: BillingState[], to: BillingState): Promise<boolean> {
  const t = schema.analysisJobs;
  const rows = await db
    .update(t)
    .set({ billingState: to, updatedAt: isoNow() })
    .where(and(eq(t.id, jobId), inArray(t.billingState, from)))
    .returning({ id: t.id });
  return rows.length > 0;
}

/** Jobs whose billing decision has not reached the ledger yet (crash between the two writes). */
/** `orgId` limits a query to one organization (its ledger's recovery tick); null means every one (the cron). */
const inOrg = (orgId: string | null) => (orgId === null ? undefined : eq(schema.analysisJobs.organizationId, orgId));

export async function jobsAwaitingBilling(db: Database, orgId: string | null = null, limit = 100): Promise<JobRow[]> {
  const t = schema.analysisJobs;
  return db.select().from(t).where(and(inArray(t.billingState, ["to_settle", "to_void"]), inOrg(orgId))).limit(limit);
}

/** Running/analyzing jobs whose lease expired, and dispatched-but-silent queued jobs. */
export async function jobsWithExpiredLease(db: Database, nowIso: string, orgId: string | null = null, limit = 100): Promise<JobRow[]> {
  const t = schema.analysisJobs;
  return db
    .select()
    .from(t)
    .where(and(inArray(t.status, ["queued", "running", "analyzing"]), lt(t.leaseExpiresAt, nowIso), inOrg(orgId)))
    .limit(limit);
}

/** Queued jobs never dispatched (the queue send was lost) older than `beforeIso`. */
export async function undispatchedJobs(db: Database, beforeIso: string, orgId: string | null = null, limit = 100): Promise<JobRow[]> {
  const t = schema.analysisJobs;
  return db
    .select()
    .from(t)
    .where(and(eq(t.status, "queued"), isNull(t.dispatchedAt), lt(t.updatedAt, beforeIso), inOrg(orgId)))
    .limit(limit);
}

/**
 * Of these jobs, those no dispatch consumer has ever attempted (queued, zero attempts): their
 * queue message was lost. A job the consumer tried and the runner refused is the queue's to retry.
 */
export async function neverDispatched(d1: D1Database, jobIds: string[]): Promise<string[]> {
  if (!jobIds.length) return [];
  const { results } = await d1
    // By primary key from the list (the `+` keeps SQLite off the status index, which would scan
    // every queued job of every organization).
    .prepare("SELECT j.id FROM json_each(?) AS w JOIN analysis_jobs AS j ON j.id = w.value WHERE +j.status = 'queued' AND j.dispatch_attempts = 0")
    .bind(JSON.stringify(jobIds))
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/** Records a runner nonce; false if it was seen before (a replayed request). */
export async function claimNonce(db: Database, nonce: string, expiresAt: number): Promise<boolean> {
  const rows = await db.insert(schema.runnerNonces).values({ nonce, expiresAt }).onConflictDoNothing().returning({ nonce: schema.runnerNonces.nonce });
  return rows.length > 0;
}

export async function purgeNonces(db: Database, now: number): Promise<void> {
  await db.delete(schema.runnerNonces).where(lt(schema.runnerNonces.expiresAt, now));
}


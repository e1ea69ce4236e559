/** The dispatch queue's consumers: jobs to the runner (with backoff), and the dead-letter queue. */
import { createDb } from "../../db/client.js";
import { getJobsByIds, updateActiveJobs, type ActiveJobUpdate } from "../../db/jobs.js";
import type { JobRow } from "../../db/schema.js";
import { loadConfig } from "../../env.js";
import { ledgerFor } from "../../ledger/client.js";
import { tierHas, lowestTierWith } from "../../lib/tiers.js";
import { iso } from "../../lib/time.js";
import { log } from "../../lib/log.js";
import { dispatchBatchToRunner } from "./runnerClient.js";
import { failJobByService } from "./failJob.js";
import { defaultVexPolicies } from "../organizations/settings.js";
import { DispatchMessageSchema, RecoveryMessageSchema } from "../../queues/messages.js";
import { recoverOrganization } from "../sweep.js";
import type { DispatchJob } from "@vexxy/contract";

/**
 * Backoff with jitter for an unreachable runner: 5 s, 10 s, then every 15 s, so a runner that comes
 * back is found within 15 s (the queue allows 100 attempts: about 25 minutes of downtime before a job
 * fails for want of a sandbox). A busy runner says itself when to come back (Retry-After).
 */
export function backoffSeconds(attempt: number): number {
  const base = Math.min(15, 5 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Dispatches a batch: one D1 read for all its jobs, one signed request to the runner for all of them
 * (POST /v1/job-batches), then one D1 batch for the bookkeeping. Whether an organization gets runtime
 * verdicts was decided at admission and travels on the job row (older rows ask the ledger).
 */
export async function handleDispatchBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  const wanted = new Map<string, { msg: Message<unknown>; orgId: string }>();
  const recoveries = new Set<string>();
  const recoveryMessages: Message<unknown>[] = [];
  for (const msg of batch.messages) {
    const recovery = RecoveryMessageSchema.safeParse(msg.body);
    if (recovery.success) {
      recoveries.add(recovery.data.recover_organization);
      recoveryMessages.push(msg);
      continue;
    }
    const parsed = DispatchMessageSchema.safeParse(msg.body);
    if (!parsed.success || wanted.has(parsed.data.job_id)) {
      if (!parsed.success) log("warn", "dropping malformed dispatch message", { message_id: msg.id });
      msg.ack();
      continue;
    }
    wanted.set(parsed.data.job_id, { msg, orgId: parsed.data.organization_id });
  }
  for (const orgId of recoveries) await recoverOrganization(env, orgId);
  for (const msg of recoveryMessages) msg.ack();
  if (!wanted.size) return;
  const jobs = await getJobsByIds(db, [...wanted.keys()]);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  // A job that chose no VEX policy gets its organization's default as of its dispatch.
  const policyOrgs = [...new Set(jobs.filter((j) => !("vex_policy" in JSON.parse(j.configJson))).map((j) => j.organizationId))];
  const policies = await defaultVexPolicies({ db, orgIds: policyOrgs });
  const verdicts = new Map<string, Promise<boolean>>();
  const verdictsFor = (job: JobRow) => {
    if (job.reachabilityVerdicts !== null) return Promise.resolve(job.reachabilityVerdicts);
    let v = verdicts.get(job.organizationId);
    if (!v) {
      v = ledgerFor(env, job.organizationId).getAccount(job.organizationId).then((a) => tierHas(a.tier, "reachability_analysis"));
      verdicts.set(job.organizationId, v);
    }
    return v;
  };
  const ready: { job: JobRow; msg: Message<unknown>; dispatch: DispatchJob }[] = [];
  for (const [jobId, { msg, orgId }] of wanted) {
    const job = byId.get(jobId);
    if (!job || job.status !== "queued" || job.organizationId !== orgId) {
      msg.ack(); // cancelled, already running, or unknown: nothing to dispatch
      continue;
    }
    const config_ = JSON.parse(job.configJson);
    config_.vex_policy ??= policies.get(job.organizationId) ?? "standard";
    ready.push({
      job,
      msg,
      dispatch: {
        job_id: job.id,
        organization_id: job.organizationId,
        image_ref: job.imageRef,
        image_digest: job.imageDigest,
        config: { ...config_, environment: job.environmentJson ? JSON.parse(job.environmentJson) : {} },
        reachability_verdicts: await verdictsFor(job),
        verdicts_tier: lowestTierWith("reachability_analysis"),
        inputs: { sbom: job.sbomKey !== null, vulnerabilities: job.vulnerabilitiesKey !== null },
        lease_seconds: config.JOB_LEASE_SECONDS,
        attempt: msg.attempts,
      },
    });
  }
  if (!ready.length) return;
  const outcomes = await dispatchBatchToRunner(config, ready.map((r) => r.dispatch));
  const updates: ActiveJobUpdate[] = [];
  for (const { job, msg } of ready) {
    const outcome = outcomes.get(job.id)!;
    const attempts = job.dispatchAttempts + 1;
    if (outcome.kind === "accepted") {
      updates.push({ jobId: job.id, fields: { dispatchAttempts: attempts, dispatchedAt: iso(Date.now()), leaseExpiresAt: iso(Date.now() + config.JOB_LEASE_SECONDS * 1000) } });
      msg.ack();
    } else if (outcome.kind === "rejected") {
      log("error", "runner rejected a dispatch", { job_id: job.id, status: outcome.status, body: outcome.body });
      await failJobByService(env, db, config, job.id, "internal", `The sandbox runner rejected the job (${outcome.status})`);
      msg.ack();
    } else {
      updates.push({ jobId: job.id, fields: { dispatchAttempts: attempts } });
      const delay = outcome.kind === "busy" && outcome.retryAfter ? Math.min(300, outcome.retryAfter) : backoffSeconds(msg.attempts);
      log("info", "runner unavailable; dispatch retried", { job_id: job.id, outcome: outcome.kind, attempt: msg.attempts, delay_seconds: delay });
      msg.retry({ delaySeconds: delay });
    }
  }
  await updateActiveJobs(db, updates, ["queued"]);
}

/** After the last retry: the job fails ("no sandbox capacity") and its hold is voided. */
export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  for (const msg of batch.messages) {
    const parsed = DispatchMessageSchema.safeParse(msg.body);
    if (parsed.success) {
      await failJobByService(env, db, config, parsed.data.job_id, "sandbox_start_failed", "No sandbox capacity: the runner did not accept the job after repeated attempts");
    }
    msg.ack();
  }
}

/** Queue consumers: dispatch to the runner (with backoff), and the dead-letter queue. */
import { createDb } from "../db/client.js";
import { getJobById, updateActiveJob } from "../db/jobs.js";
import { loadConfig } from "../env.js";
import { ledgerFor } from "../ledger/client.js";
import { tierHas, lowestTierWith } from "../lib/tiers.js";
import { iso } from "../lib/time.js";
import { log } from "../lib/log.js";
import { dispatchToRunner } from "../services/runner/runnerClient.js";
import { failJobByService } from "../services/runner/failJob.js";
import { LEASE_SECONDS } from "../services/runner/recordProgress.js";
import { DispatchMessageSchema } from "./messages.js";
import type { DispatchJob } from "./contract.js";

/** Exponential backoff with jitter for a busy or unreachable runner: 5 s, 10 s, 20 s … capped at 5 min. */
export function backoffSeconds(attempt: number): number {
  const base = Math.min(300, 5 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export async function handleDispatchBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = loadConfig(env);
  const db = createDb(env.DB);
  for (const msg of batch.messages) {
    const parsed = DispatchMessageSchema.safeParse(msg.body);
    if (!parsed.success) {
      log("warn", "dropping malformed dispatch message", { message_id: msg.id });
      msg.ack();
      continue;
    }
    const job = await getJobById(db, parsed.data.job_id);
    if (!job || job.status !== "queued" || job.organizationId !== parsed.data.organization_id) {
      msg.ack(); // cancelled, already running, or unknown: nothing to dispatch
      continue;
    }
    const account = await ledgerFor(env, job.organizationId).getAccount(job.organizationId);
    const config_ = JSON.parse(job.configJson);
    const dispatch: DispatchJob = {
      job_id: job.id,
      organization_id: job.organizationId,
      image_ref: job.imageRef,
      image_digest: job.imageDigest,
      config: { ...config_, environment: job.environmentJson ? JSON.parse(job.environmentJson) : {} },
      reachability_verdicts: tierHas(account.tier, "reachability_analysis"),
      verdicts_tier: lowestTierWith("reachability_analysis"),
      inputs: { sbom: job.sbomKey !== null, vulnerabilities: job.vulnerabilitiesKey !== null },
      lease_seconds: LEASE_SECONDS,
      attempt: msg.attempts,
    };
    const outcome = await dispatchToRunner(config, dispatch);
    const attempts = job.dispatchAttempts + 1;
    if (outcome.kind === "accepted") {
      await updateActiveJob(db, job.id, ["queued"], {
        dispatchAttempts: attempts,
        dispatchedAt: iso(Date.now()),
        leaseExpiresAt: iso(Date.now() + LEASE_SECONDS * 1000),
      });
      msg.ack();
    } else if (outcome.kind === "rejected") {
      log("error", "runner rejected a dispatch", { job_id: job.id, status: outcome.status, body: outcome.body });
      await failJobByService(env, db, config, job.id, "internal", `The sandbox runner rejected the job (${outcome.status})`);
      msg.ack();
    } else {
      await updateActiveJob(db, job.id, ["queued"], { dispatchAttempts: attempts });
      const delay = outcome.kind === "busy" && outcome.retryAfter ? Math.min(300, outcome.retryAfter) : backoffSeconds(msg.attempts);
      log("info", "runner unavailable; dispatch retried", { job_id: job.id, outcome: outcome.kind, attempt: msg.attempts, delay_seconds: delay });
      msg.retry({ delaySeconds: delay });
    }
  }
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

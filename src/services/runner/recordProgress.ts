import type { Database } from "../../db/client.js";
import type { JobRow, JobStatus } from "../../db/schema.js";
import { getJobById, TERMINAL, transitionJob, updateActiveJob } from "../../db/jobs.js";
import { HOLDING_PHASES, type ProgressCallback } from "@vexxy/contract";
import type { Config } from "../../env.js";
import { iso, isoNow } from "../../lib/time.js";

const POST_PROCESSING = new Set(["collecting_evidence", "computing_reachability", "writing_vex"]);

export type CallbackOutcome = { kind: "ok"; job: JobRow } | { kind: "not_found" } | { kind: "finished"; status: JobStatus };

/** Progress and heartbeat: moves queued → running → analyzing, never backwards; renews the lease. */
export async function recordProgress(db: Database, config: Pick<Config, "JOB_LEASE_SECONDS">, jobId: string, p: ProgressCallback): Promise<CallbackOutcome> {
  const job = await getJobById(db, jobId);
  if (!job) return { kind: "not_found" };
  if (TERMINAL.includes(job.status)) return { kind: "finished", status: job.status };
  const now = Date.now();
  if (HOLDING_PHASES.includes(p.phase)) {
    // Held by the runner before its run begins (a free slot, the prober image): the lease is
    // renewed, the job stays queued (never moved backwards).
    const held = await updateActiveJob(db, jobId, ["queued"], { currentPhase: p.phase, leaseExpiresAt: iso(now + config.JOB_LEASE_SECONDS * 1000) });
    if (held) return { kind: "ok", job: held };
    const current = await getJobById(db, jobId);
    return TERMINAL.includes(current!.status) ? { kind: "finished", status: current!.status } : { kind: "ok", job: current! };
  }
  const desired: JobStatus = POST_PROCESSING.has(p.phase) ? "analyzing" : "running";
  const fields = {
    progressPercent: Math.max(job.progressPercent, p.progress_percent),
    currentPhase: job.status === "analyzing" && desired === "running" ? job.currentPhase : p.phase,
    leaseExpiresAt: iso(now + config.JOB_LEASE_SECONDS * 1000),
    ...(p.sandbox_started_at && !job.sandboxStartedAt ? { sandboxStartedAt: iso(Date.parse(p.sandbox_started_at)) } : {}),
  };
  let updated: JobRow | null = null;
  if (job.status !== desired && !(job.status === "analyzing" && desired === "running")) {
    updated = await transitionJob(db, jobId, desired, { ...fields, ...(job.startedAt ? {} : { startedAt: isoNow() }) });
  }
  updated ??= await updateActiveJob(db, jobId, ["queued", "running", "analyzing"], fields);
  if (!updated) {
    const now2 = await getJobById(db, jobId);
    return { kind: "finished", status: now2!.status };
  }
  return { kind: "ok", job: updated };
}

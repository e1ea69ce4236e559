/** What the API shows of a job: the spec's status and results bodies, and list items. */
import type { JobRow } from "../../db/schema.js";
import { PHASE_LABELS, PROBER_WAIT_PHASE, type ProgressPhase } from "@vexxy/contract";
import { iso } from "../../lib/time.js";

function phaseLabel(job: JobRow): string | null {
  if (job.status === "queued") return job.currentPhase === PROBER_WAIT_PHASE ? PHASE_LABELS[PROBER_WAIT_PHASE] : "Waiting for a sandbox";
  if (job.status === "complete") return "Complete";
  if (job.status === "failed") return "Failed";
  if (job.status === "cancelled") return "Cancelled";
  return job.currentPhase ? (PHASE_LABELS[job.currentPhase as ProgressPhase] ?? job.currentPhase) : "Starting";
}

function estimatedCompletion(job: JobRow): string | null {
  if (job.completedAt) return job.completedAt;
  const from = Date.parse(job.startedAt ?? job.createdAt);
  return iso(from + job.estimatedDurationMinutes * 60_000);
}

export function statusView(job: JobRow) {
  return {
    job_id: job.id,
    status: job.status,
    progress_percent: job.progressPercent,
    current_phase: phaseLabel(job),
    phase: job.currentPhase,
    created_at: job.createdAt,
    started_at: job.startedAt,
    estimated_completion: estimatedCompletion(job),
    completed_at: job.completedAt,
    image_ref: job.imageRef,
    image_digest: job.imageDigest,
    error_message: job.status === "failed" || job.status === "cancelled" ? job.errorMessage : null,
    error_code: job.status === "failed" || job.status === "cancelled" ? job.errorCode : null,
  };
}

/** A list item: never the job's environment values (only the variable names). */
export function listItemView(job: JobRow) {
  const config = JSON.parse(job.configJson) as Record<string, unknown>;
  const envNames = job.environmentJson ? Object.keys(JSON.parse(job.environmentJson) as object) : [];
  return {
    job_id: job.id,
    status: job.status,
    image_ref: job.imageRef,
    image_digest: job.imageDigest,
    profile: job.profile,
    config: { ...config, environment_variables: envNames },
    progress_percent: job.progressPercent,
    current_phase: phaseLabel(job),
    cost_credits: job.costCredits,
    max_cost_credits: job.maxCost,
    created_at: job.createdAt,
    started_at: job.startedAt,
    completed_at: job.completedAt,
    error_message: job.status === "failed" ? job.errorMessage : null,
  };
}

export interface StoredResults {
  vex_document: Record<string, unknown> | null;
  execution_profile: Record<string, unknown>;
  reachability_results: Record<string, unknown>;
  security_findings: Record<string, unknown>;
}

/** 200 in every state: result fields are null until the job is complete. */
export function resultsView(job: JobRow, results: StoredResults | null) {
  const complete = job.status === "complete" && results !== null;
  return {
    job_id: job.id,
    status: job.status,
    image_ref: job.imageRef,
    image_digest: job.imageDigest,
    vex_document: complete ? results.vex_document : null,
    execution_profile: complete ? results.execution_profile : null,
    reachability_results: complete ? results.reachability_results : null,
    security_findings: complete ? results.security_findings : null,
    cost_credits: job.costCredits,
    completed_at: job.completedAt,
    error_message: job.status === "failed" || job.status === "cancelled" ? job.errorMessage : null,
  };
}

/** An analysis job's statuses, in the order a job moves through them, and the ones it ends in. */
export const JOB_STATUSES = ["queued", "running", "analyzing", "complete", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL: readonly JobStatus[] = ["complete", "failed", "cancelled"];

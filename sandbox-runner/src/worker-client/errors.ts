/** Errors the Worker client raises; the pipeline branches on these classes and `status`, never on text. */

/** The Worker answered with a status we do not retry (4xx other than 429), or retries ran out on 5xx. */
export class WorkerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    message: string,
  ) {
    super(message);
    this.name = "WorkerHttpError";
  }
}

/** Every attempt failed at the network level (refused, reset, timed out). */
export class WorkerUnreachableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "WorkerUnreachableError";
  }
}

/**
 * The Worker no longer accepts reports for this job (409: finished or cancelled there; 404: unknown).
 * The pipeline aborts the job: nobody will read its results.
 */
export class JobGoneError extends Error {
  constructor(readonly jobId: string, readonly status: number) {
    super(`the Worker no longer accepts reports for job ${jobId} (HTTP ${status})`);
    this.name = "JobGoneError";
  }
}

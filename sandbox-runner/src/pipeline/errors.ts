/** Why a job stopped early. The pipeline maps each of these to a fail callback in failure.ts. */
import type { FailCallback } from "@vexxy/contract";

export type AbortCode = "cancelled" | "runner_shutdown" | "gone";

/** The reason passed to a job's AbortController: cancelled, shut down, or finished at the Worker. */
export class JobAbort extends Error {
  constructor(readonly code: AbortCode, message: string) {
    super(message);
    this.name = "JobAbort";
  }
}

/** The image or the user's script misbehaved: billed as workload, the sandbox did run. */
export class WorkloadFailure extends Error {
  constructor(readonly code: Extract<FailCallback["error_code"], "unhealthy" | "timeout" | "oom_killed">, message: string) {
    super(message);
    this.name = "WorkloadFailure";
  }
}

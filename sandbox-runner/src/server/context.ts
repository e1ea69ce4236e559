/** What every route handler receives: built once when the server starts. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HostCheck } from "../drivers/types.js";
import type { RunnerMetrics } from "../metrics.js";
import type { JobManager } from "../pipeline/job-manager.js";
import type { Logger } from "../pipeline/log.js";
import type { ReplayGuard } from "./replay-guard.js";

export interface ServerContext {
  /** Secrets the Worker's requests may be signed with (current, then previous during a rotation). */
  secrets: readonly string[];
  jobs: JobManager;
  metrics: RunnerMetrics;
  logger: Logger;
  driverName: string;
  /** What analyses need from this host and whether it is there (the driver's checks; none for a cluster). */
  readiness: () => HostCheck[];
  replayGuard: ReplayGuard;
  maxBodyBytes: number;
  /** Seconds a refused dispatch should wait before trying again. */
  retryAfterSeconds: number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: ServerContext, params: Record<string, string>) => Promise<void>;

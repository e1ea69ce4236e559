/**
 * Starts the runner: job manager + HTTP server on the configured address, and stops it gracefully.
 * main.ts adds the process concerns (config from env, driver, signals); tests call this directly
 * with their own driver and Worker.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { RunnerMetrics } from "../metrics.js";
import type { PipelineDeps } from "../pipeline/deps.js";
import { JobManager } from "../pipeline/job-manager.js";
import type { Logger } from "../pipeline/log.js";
import { createRunnerServer } from "./app.js";
import { ReplayGuard } from "./replay-guard.js";

export interface RunnerOptions {
  host: string;
  port: number;
  secret: string;
  /** During a rotation: the previous secret, still accepted (the current one always is). */
  previousSecret?: string;
  maxConcurrent: number;
  /** Jobs that may wait for a slot (job-manager.ts); 0 refuses dispatches as busy whenever slots are full. */
  queueLimit?: number;
  deps: PipelineDeps;
  maxBodyBytes?: number;
  retryAfterSeconds?: number;
}

export interface RunningRunner {
  readonly url: string;
  readonly server: Server;
  readonly jobs: JobManager;
  readonly metrics: RunnerMetrics;
  /** Refuses new jobs, gives running ones `graceMs`, aborts the rest, then closes the server. */
  stop(graceMs: number): Promise<void>;
}

export async function startRunner(o: RunnerOptions): Promise<RunningRunner> {
  const jobs = new JobManager(o.deps, o.maxConcurrent, o.queueLimit ?? 0);
  const logger: Logger = o.deps.logger;
  const server = createRunnerServer({
    secrets: o.previousSecret ? [o.secret, o.previousSecret] : [o.secret],
    jobs,
    metrics: o.deps.metrics,
    logger,
    driverName: o.deps.driver.name,
    readiness: () => o.deps.driver.readiness?.() ?? [],
    replayGuard: new ReplayGuard(),
    maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
    retryAfterSeconds: o.retryAfterSeconds ?? 30,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    jobs,
    metrics: o.deps.metrics,
    stop(graceMs) {
      stopping ??= (async () => {
        // The server stays up while jobs drain, answering 503 to dispatches and serving /healthz.
        await jobs.shutdown(graceMs);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      })();
      return stopping;
    },
  };
}

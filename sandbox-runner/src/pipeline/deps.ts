/** Everything a job run needs from outside, built once at start (main.ts) or by a test. */
import type { SandboxDriver, SandboxLimits } from "../drivers/types.js";
import type { RunnerMetrics } from "../metrics.js";
import type { WorkerApi } from "../worker-client/client.js";
import type { AnalysisSteps } from "./analysis.js";
import type { Logger } from "./log.js";

export interface PipelineSettings {
  heartbeatMs: number;
  healthTimeoutMs: number;
  /** Budget for probing the ports when the job has no test script. */
  probeTimeoutMs: number;
  /** Budget for the ZAP scan; running over it fails the scan, not the job. */
  zapTimeoutMs: number;
  limits: SandboxLimits;
}

export interface PipelineDeps {
  driver: SandboxDriver;
  worker: WorkerApi;
  analysis: AnalysisSteps;
  metrics: RunnerMetrics;
  logger: Logger;
  settings: PipelineSettings;
}

export function defaultSettings(o: { heartbeatSeconds: number; healthTimeoutSeconds: number; limits: SandboxLimits }): PipelineSettings {
  return {
    heartbeatMs: o.heartbeatSeconds * 1000,
    healthTimeoutMs: o.healthTimeoutSeconds * 1000,
    probeTimeoutMs: 60_000,
    zapTimeoutMs: 15 * 60_000,
    limits: o.limits,
  };
}

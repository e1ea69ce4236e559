/**
 * Starts the real runner (server, job manager, pipeline, Worker client) on an ephemeral 127.0.0.1
 * port, wired to a FakeDriver and a local WorkerReceiver. Timings are shrunk so a full job runs in
 * milliseconds.
 */
import { createMetrics } from "../../src/metrics.js";
import type { AnalysisSteps } from "../../src/pipeline/analysis.js";
import type { PipelineSettings } from "../../src/pipeline/deps.js";
import { silentLogger } from "../../src/pipeline/log.js";
import { startRunner, type RunningRunner } from "../../src/server/runner.js";
import { WorkerClient } from "../../src/worker-client/client.js";
import { fakeAnalysis } from "./fake-analysis.js";
import { FakeDriver, type FakeBehaviour } from "./fake-driver.js";
import { WorkerReceiver } from "./worker-receiver.js";

export const SECRET = "test-secret-0123456789abcdef0123456789";

export interface Harness {
  runner: RunningRunner;
  worker: WorkerReceiver;
  driver: FakeDriver;
  url: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  behaviour?: FakeBehaviour;
  maxConcurrent?: number;
  analysis?: AnalysisSteps;
  settings?: Partial<PipelineSettings>;
  /** The rotation setting (RUNNER_SECRET_PREVIOUS). */
  previousSecret?: string;
  /** RUNNER_QUEUE_LIMIT (0 unless set: a busy runner refuses). */
  queueLimit?: number;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const worker = await new WorkerReceiver(SECRET).start();
  const driver = new FakeDriver(o.behaviour);
  const runner = await startRunner({
    host: "127.0.0.1",
    port: 0,
    secret: SECRET,
    ...(o.previousSecret ? { previousSecret: o.previousSecret } : {}),
    maxConcurrent: o.maxConcurrent ?? 2,
    queueLimit: o.queueLimit ?? 0,
    retryAfterSeconds: 7,
    deps: {
      driver,
      worker: new WorkerClient({
        baseUrl: worker.url,
        secret: SECRET,
        retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
        requestTimeoutMs: 2_000,
      }),
      analysis: o.analysis ?? fakeAnalysis(),
      metrics: createMetrics(),
      logger: silentLogger,
      settings: {
        heartbeatMs: 10_000,
        healthTimeoutMs: 5_000,
        probeTimeoutMs: 5_000,
        zapTimeoutMs: 5_000,
        limits: { memoryBytes: 512 * 1024 * 1024, cpus: 1, pids: 256 },
        ...o.settings,
      },
    },
  });
  return {
    runner,
    worker,
    driver,
    url: runner.url,
    async close() {
      await runner.stop(0);
      await worker.close();
    },
  };
}

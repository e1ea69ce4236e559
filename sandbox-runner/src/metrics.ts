/**
 * Prometheus metrics for the runner. Each runner instance owns its own Registry (never the global
 * one), so tests can start several runners in one process without metric-name collisions.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RuntimeTrace } from "./trace/types.js";

export type JobFinalState = "completed" | "failed" | "cancelled" | "abandoned";

export interface RunnerMetrics {
  readonly registry: Registry;
  jobsFinished: Counter<"state">;
  jobsRunning: Gauge;
  /** Accepted jobs waiting in the local queue for a slot. */
  jobsQueued: Gauge;
  phaseDuration: Histogram<"phase">;
  sandboxFailures: Counter<"code">;
  traceEvents: Counter<"kind">;
  callbackFailures: Counter<"kind">;
  /** Counts one finished trace's events by kind. */
  recordTrace(trace: RuntimeTrace): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): RunnerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "vexxy_runner_" });
  const jobsFinished = new Counter({
    name: "vexxy_runner_jobs_total",
    help: "Jobs finished by this runner, by final state",
    labelNames: ["state"] as const,
    registers: [registry],
  });
  const jobsRunning = new Gauge({
    name: "vexxy_runner_jobs_running",
    help: "Jobs currently holding a sandbox slot",
    registers: [registry],
  });
  const jobsQueued = new Gauge({
    name: "vexxy_runner_jobs_queued",
    help: "Accepted jobs waiting in the runner's local queue for a sandbox slot",
    registers: [registry],
  });
  const phaseDuration = new Histogram({
    name: "vexxy_runner_phase_duration_seconds",
    help: "Wall-clock duration of each job phase",
    labelNames: ["phase"] as const,
    buckets: [0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const sandboxFailures = new Counter({
    name: "vexxy_runner_sandbox_failures_total",
    help: "Jobs that ended in a failure, by error code",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const traceEvents = new Counter({
    name: "vexxy_runner_trace_events_total",
    help: "Runtime trace events collected, by kind",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const callbackFailures = new Counter({
    name: "vexxy_runner_worker_callback_failures_total",
    help: "Callbacks to the Worker that failed after every retry, by kind",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  // Pre-create the labels so dashboards see zeros rather than absent series.
  for (const state of ["completed", "failed", "cancelled", "abandoned"]) jobsFinished.inc({ state }, 0);
  for (const kind of ["exec", "open", "mmap", "connection"]) traceEvents.inc({ kind }, 0);

  return {
    registry,
    jobsFinished,
    jobsRunning,
    jobsQueued,
    phaseDuration,
    sandboxFailures,
    traceEvents,
    callbackFailures,
    recordTrace(trace) {
      traceEvents.inc({ kind: "exec" }, trace.execs.length);
      traceEvents.inc({ kind: "open" }, trace.opens.length);
      traceEvents.inc({ kind: "mmap" }, trace.mmaps.length);
      traceEvents.inc({ kind: "connection" }, trace.connections.length);
    },
  };
}

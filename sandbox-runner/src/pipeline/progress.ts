/**
 * Reports a job's progress to the Worker: once per phase change, then every heartbeat interval
 * while the phase lasts (the heartbeat keeps the Worker's lease alive). Sends are serialised so the
 * Worker sees them in order; a heartbeat is dropped while an earlier report is still in flight. A
 * JobGoneError (Worker answered 409/404) calls `onGone`, which aborts the job.
 */
import { PHASE_LABELS, type JobPhase, type ProgressCallback } from "@vexxy/contract";
import { JobGoneError } from "../worker-client/errors.js";
import type { WorkerApi } from "../worker-client/client.js";
import type { RunnerMetrics } from "../metrics.js";
import { errorMessage, type Logger } from "./log.js";
import type { PhasePlan } from "./phases.js";

export interface ProgressReporterOptions {
  jobId: string;
  plan: PhasePlan;
  worker: WorkerApi;
  heartbeatMs: number;
  signal: AbortSignal;
  onGone: (err: JobGoneError) => void;
  logger: Logger;
  metrics: RunnerMetrics;
  now?: () => number;
}

export class ProgressReporter {
  private phase: JobPhase | undefined;
  private phaseStartedAt = 0;
  /** Expected upper bound of the current phase, for interpolating heartbeats; 0 = unknown. */
  private phaseBudgetMs = 0;
  private lastPercent = 0;
  private sandboxStartedAt: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly o: ProgressReporterOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Enters a phase and reports it immediately; starts the heartbeat on first use. */
  enter(phase: JobPhase, budgetMs = 0): void {
    this.phase = phase;
    this.phaseStartedAt = this.now();
    this.phaseBudgetMs = budgetMs;
    this.send(this.o.plan.start(phase));
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => this.heartbeat(), this.o.heartbeatMs);
    }
  }

  /** Records when the sandbox started; reported now and with every later report. */
  sandboxStarted(at: Date): void {
    this.sandboxStartedAt = at.toISOString();
    if (this.phase) this.send(this.lastPercent);
  }

  /** Stops the heartbeat and waits until every queued report has been delivered or given up. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private heartbeat(): void {
    if (!this.phase || this.inFlight > 0) return;
    this.send(this.interpolated());
  }

  /** Moves within the phase's share in proportion to elapsed/budget, never past 90% of it. */
  private interpolated(): number {
    if (!this.phase) return this.lastPercent;
    const start = this.o.plan.start(this.phase);
    if (this.phaseBudgetMs <= 0) return start;
    const span = this.o.plan.end(this.phase) - start;
    const fraction = Math.min(0.9, (this.now() - this.phaseStartedAt) / this.phaseBudgetMs);
    return start + Math.floor(span * fraction);
  }

  private send(percent: number): void {
    if (this.closed || !this.phase || this.o.signal.aborted) return;
    this.lastPercent = Math.max(this.lastPercent, percent);
    const body: ProgressCallback = {
      phase: this.phase,
      progress_percent: this.lastPercent,
      message: PHASE_LABELS[this.phase],
      ...(this.sandboxStartedAt ? { sandbox_started_at: this.sandboxStartedAt } : {}),
    };
    this.inFlight++;
    this.chain = this.chain
      .then(() => (this.o.signal.aborted ? undefined : this.o.worker.progress(this.o.jobId, body, this.o.signal)))
      .catch((err: unknown) => {
        if (err instanceof JobGoneError) return this.o.onGone(err);
        if (this.o.signal.aborted) return;
        this.o.metrics.callbackFailures.inc({ kind: "progress" });
        this.o.logger.warn("progress report failed", { job_id: this.o.jobId, phase: body.phase, error: errorMessage(err) });
      })
      .finally(() => {
        this.inFlight--;
      });
  }
}

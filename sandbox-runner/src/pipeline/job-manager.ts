/**
 * The runner's jobs: admission (capacity, duplicates, shutdown), one AbortController per job, cancel,
 * and the graceful shutdown. The HTTP layer asks it verbs and maps the answers to status codes.
 *
 * Dispatch at capacity: a job that arrives while every sandbox slot is busy waits in a bounded local
 * queue (first in, first out) and starts the moment a slot frees, so a backlog drains at the runner's
 * capacity instead of at the pace of the Worker's retries. A waiting job reports "waiting_for_slot"
 * at once and then every heartbeat, which keeps its lease alive (it stays "queued" for the user).
 * Only when the queue is full too is a dispatch refused as busy. A runner that dies loses its queue;
 * those jobs never started, so the Worker's recovery dispatches them again.
 */
import { WAITING_PHASE, type DispatchJob } from "@vexxy/contract";
import type { JobFinalState } from "../metrics.js";
import type { PipelineDeps } from "./deps.js";
import { JobAbort } from "./errors.js";
import { errorMessage } from "./log.js";
import { runJob } from "./run-job.js";

export type DispatchResult =
  /** A new run started, or waits in the local queue for a slot. */
  | "accepted"
  /** This very attempt is already running here: nothing new starts (idempotent re-dispatch). */
  | "duplicate"
  /** The job id is running here under another attempt. */
  | "conflict"
  /** This attempt already ran to its end here. */
  | "finished"
  | "busy"
  | "shutting_down";

interface RunningJob {
  job: DispatchJob;
  controller: AbortController;
  done: Promise<JobFinalState>;
}

/** How many finished (job, attempt) pairs are remembered to refuse a late re-dispatch. */
const FINISHED_MEMORY = 1_000;

export class JobManager {
  private readonly jobs = new Map<string, RunningJob>();
  /** Accepted jobs waiting for a slot, oldest first. */
  private readonly waiting = new Map<string, DispatchJob>();
  private readonly finished = new Map<string, JobFinalState>();
  private accepting = true;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: PipelineDeps,
    readonly maxConcurrent: number,
    /** How many accepted jobs may wait for a slot (0: refuse as busy whenever the slots are full). */
    readonly queueLimit = 0,
  ) {}

  get running(): number {
    return this.jobs.size;
  }

  get queued(): number {
    return this.waiting.size;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  dispatch(job: DispatchJob): DispatchResult {
    const current = this.jobs.get(job.job_id) ?? (this.waiting.has(job.job_id) ? { job: this.waiting.get(job.job_id)! } : undefined);
    if (current) return current.job.attempt === job.attempt ? "duplicate" : "conflict";
    if (this.finished.has(key(job))) return "finished";
    if (!this.accepting) return "shutting_down";
    if (this.jobs.size < this.maxConcurrent) {
      this.start(job);
      return "accepted";
    }
    if (this.waiting.size >= this.queueLimit) return "busy";
    this.waiting.set(job.job_id, job);
    this.deps.metrics.jobsQueued.set(this.waiting.size);
    this.reportWaiting([job]);
    this.heartbeat ??= setInterval(() => this.reportWaiting([...this.waiting.values()]), this.deps.settings.heartbeatMs);
    return "accepted";
  }

  private start(job: DispatchJob): void {
    const controller = new AbortController();
    const entry: RunningJob = { job, controller, done: Promise.resolve("failed") };
    this.jobs.set(job.job_id, entry);
    this.deps.metrics.jobsRunning.set(this.jobs.size);
    entry.done = runJob({ job, signal: controller.signal, abort: (r) => controller.abort(r), deps: this.deps })
      .catch((err: unknown): JobFinalState => {
        // runJob reports every outcome itself; reaching here is a bug worth a loud log line.
        this.deps.logger.error("job pipeline threw", { job_id: job.job_id, error: errorMessage(err) });
        return "failed";
      })
      .then((state) => {
        this.jobs.delete(job.job_id);
        this.remember(job, state);
        this.deps.metrics.jobsRunning.set(this.jobs.size);
        this.deps.metrics.jobsFinished.inc({ state });
        this.startWaiting();
        return state;
      });
  }

  /** Fills free slots from the local queue, oldest first. */
  private startWaiting(): void {
    for (const [id, job] of this.waiting) {
      if (this.jobs.size >= this.maxConcurrent || !this.accepting) break;
      this.waiting.delete(id);
      this.start(job);
    }
    this.deps.metrics.jobsQueued.set(this.waiting.size);
    if (this.waiting.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** "waiting_for_slot" for these jobs: keeps their leases alive at the Worker. Failures are retried by the next beat. */
  private reportWaiting(jobs: DispatchJob[]): void {
    for (const job of jobs) {
      this.deps.worker.progress(job.job_id, { phase: WAITING_PHASE, progress_percent: 0 }).catch((err: unknown) => {
        this.deps.logger.warn("waiting-job heartbeat failed", { job_id: job.job_id, error: errorMessage(err) });
      });
    }
  }

  /** Aborts a running job; it reports itself failed with error_code "cancelled". False if unknown. */
  cancel(jobId: string): boolean {
    if (this.waiting.delete(jobId)) {
      // Never started: nothing to stop or report (the Worker cancelled it).
      this.startWaiting();
      return true;
    }
    const entry = this.jobs.get(jobId);
    if (!entry) return false;
    entry.controller.abort(new JobAbort("cancelled", "the job was cancelled"));
    return true;
  }

  /** The final state once the job has ended (undefined if it is not running here). */
  settled(jobId: string): Promise<JobFinalState> | undefined {
    return this.jobs.get(jobId)?.done;
  }

  /**
   * Stops admitting jobs, lets running ones finish for up to `graceMs`, then aborts the rest (they
   * report runner_shutdown, a service fault) and waits until every sandbox is destroyed and reported.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    // Waiting jobs never started: they are left to the Worker's recovery, which dispatches them again.
    this.waiting.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const all = () => Promise.all([...this.jobs.values()].map((j) => j.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace_over">((resolve) => {
      timer = setTimeout(() => resolve("grace_over"), graceMs);
    });
    const first = await Promise.race([all(), graceOver]);
    clearTimeout(timer);
    if (first === "grace_over") {
      for (const entry of this.jobs.values()) {
        entry.controller.abort(new JobAbort("runner_shutdown", "the runner shut down before the job finished"));
      }
    }
    await all();
  }

  private remember(job: DispatchJob, state: JobFinalState): void {
    this.finished.set(key(job), state);
    if (this.finished.size > FINISHED_MEMORY) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }
}

const key = (job: DispatchJob) => `${job.job_id}#${job.attempt}`;

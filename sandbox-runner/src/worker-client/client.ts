/**
 * The runner's side of the Worker's internal API: progress (also the heartbeat), complete and fail
 * callbacks, and the job's stored inputs. Every request is signed with the shared secret; outgoing
 * bodies are validated against the contract first, so a bug of ours fails here, loudly, and not as
 * a 400 the Worker logs somewhere else.
 */
import {
  CompleteCallbackSchema,
  FailCallbackSchema,
  ProgressCallbackSchema,
  type CompleteCallback,
  type FailCallback,
  type ProgressCallback,
} from "@vexxy/contract";
import { JobGoneError, WorkerHttpError } from "./errors.js";
import { DEFAULT_RETRY, signedFetch, type RetryPolicy } from "./signed-fetch.js";

export type InputKind = "sbom" | "vulnerabilities";

export interface WorkerClientOptions {
  baseUrl: string;
  secret: string;
  retry?: RetryPolicy;
  requestTimeoutMs?: number;
}

/** What the pipeline needs from the Worker; tests may substitute it, the server uses WorkerClient. */
export interface WorkerApi {
  /** Throws JobGoneError when the Worker has finished or forgotten the job. */
  progress(jobId: string, body: ProgressCallback, signal?: AbortSignal): Promise<void>;
  /** Resolves "delivered", or "gone" when the Worker had already finished the job. */
  complete(jobId: string, body: CompleteCallback): Promise<"delivered" | "gone">;
  fail(jobId: string, body: FailCallback): Promise<"delivered" | "gone">;
  /** The stored input document, or null when the Worker has none (404). */
  fetchInput(jobId: string, kind: InputKind, signal?: AbortSignal): Promise<unknown | null>;
}

const GONE = [404, 409];

export class WorkerClient implements WorkerApi {
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;

  constructor(private readonly o: WorkerClientOptions) {
    this.retry = o.retry ?? DEFAULT_RETRY;
    this.timeoutMs = o.requestTimeoutMs ?? 30_000;
  }

  async progress(jobId: string, body: ProgressCallback, signal?: AbortSignal): Promise<void> {
    const res = await this.post(`/internal/v1/jobs/${enc(jobId)}/progress`, ProgressCallbackSchema.parse(body), signal);
    if (GONE.includes(res)) throw new JobGoneError(jobId, res);
  }

  async complete(jobId: string, body: CompleteCallback): Promise<"delivered" | "gone"> {
    const res = await this.post(`/internal/v1/jobs/${enc(jobId)}/complete`, CompleteCallbackSchema.parse(body));
    return GONE.includes(res) ? "gone" : "delivered";
  }

  async fail(jobId: string, body: FailCallback): Promise<"delivered" | "gone"> {
    const res = await this.post(`/internal/v1/jobs/${enc(jobId)}/fail`, FailCallbackSchema.parse(body));
    return GONE.includes(res) ? "gone" : "delivered";
  }

  async fetchInput(jobId: string, kind: InputKind, signal?: AbortSignal): Promise<unknown | null> {
    const res = await signedFetch({
      baseUrl: this.o.baseUrl,
      secret: this.o.secret,
      method: "GET",
      path: `/internal/v1/jobs/${enc(jobId)}/inputs/${kind}`,
      retry: this.retry,
      timeoutMs: this.timeoutMs,
      acceptStatuses: [404],
      ...(signal ? { signal } : {}),
    });
    if (res.status === 404) return null;
    try {
      return JSON.parse(res.text) as unknown;
    } catch {
      throw new WorkerHttpError(res.status, res.text.slice(0, 200), `input ${kind} of job ${jobId} is not JSON`);
    }
  }

  private async post(path: string, body: unknown, signal?: AbortSignal): Promise<number> {
    const res = await signedFetch({
      baseUrl: this.o.baseUrl,
      secret: this.o.secret,
      method: "POST",
      path,
      body: JSON.stringify(body),
      retry: this.retry,
      timeoutMs: this.timeoutMs,
      acceptStatuses: GONE,
      ...(signal ? { signal } : {}),
    });
    return res.status;
  }
}

const enc = encodeURIComponent;

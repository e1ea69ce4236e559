/**
 * One signed HTTP request to the Worker, retried with exponential backoff and full jitter on network
 * errors, 5xx and 429. Each attempt is signed afresh: the Worker remembers nonces, so resending a
 * nonce whose first delivery did arrive (but whose answer was lost) would be refused as a replay.
 */
import { signRequest } from "@vexxy/contract";
import { WorkerHttpError, WorkerUnreachableError } from "./errors.js";

export interface RetryPolicy {
  /** Total attempts including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 15_000 };

export interface SignedFetchOptions {
  baseUrl: string;
  secret: string;
  method: "GET" | "POST";
  /** Path below baseUrl, starting with "/". */
  path: string;
  body?: string;
  signal?: AbortSignal;
  retry: RetryPolicy;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** Statuses returned to the caller without raising (e.g. 404 for an absent input). */
  acceptStatuses?: number[];
}

export interface SignedResponse {
  status: number;
  text: string;
}

const RETRYABLE = (status: number) => status >= 500 || status === 429;

export async function signedFetch(o: SignedFetchOptions): Promise<SignedResponse> {
  const url = new URL(o.baseUrl + o.path);
  // Sign exactly the path (and query) the Worker will see, including any prefix in WORKER_URL.
  const signedPath = url.pathname + url.search;
  const body = o.body ?? "";
  let lastError: unknown;
  for (let attempt = 1; attempt <= o.retry.attempts; attempt++) {
    o.signal?.throwIfAborted();
    let retryAfterMs: number | undefined;
    try {
      const headers = await signRequest(o.secret, o.method, signedPath, body);
      const timeout = AbortSignal.timeout(o.timeoutMs);
      const res = await fetch(url, {
        method: o.method,
        headers: { ...headers, ...(o.method === "POST" ? { "content-type": "application/json" } : {}) },
        ...(o.method === "POST" ? { body } : {}),
        signal: o.signal ? AbortSignal.any([o.signal, timeout]) : timeout,
      });
      const text = await res.text();
      if ((res.status >= 200 && res.status < 300) || o.acceptStatuses?.includes(res.status)) {
        return { status: res.status, text };
      }
      const err = new WorkerHttpError(res.status, text.slice(0, 500), `${o.method} ${signedPath} → HTTP ${res.status}`);
      if (!RETRYABLE(res.status)) throw err;
      lastError = err;
      retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof WorkerHttpError && !RETRYABLE(err.status)) throw err;
      if (o.signal?.aborted) throw o.signal.reason;
      if (!(err instanceof WorkerHttpError)) lastError = err;
    }
    if (attempt < o.retry.attempts) await sleep(backoffMs(attempt, o.retry, retryAfterMs), o.signal);
  }
  if (lastError instanceof WorkerHttpError) throw lastError;
  throw new WorkerUnreachableError(
    `${o.method} ${signedPath} failed after ${o.retry.attempts} attempts: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
    lastError,
  );
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base·2^(n-1))], at least Retry-After. */
export function backoffMs(attempt: number, p: RetryPolicy, retryAfterMs?: number): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.random() * ceiling;
  return Math.min(p.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  return Number.isFinite(secs) && secs >= 0 ? secs * 1000 : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

import { ERROR_STATUS, type ErrorCode } from "./codes.js";
import type { QuotaState } from "../lib/quota.js";

/**
 * A domain error that knows its spec code. Services throw these (they know nothing of HTTP); the one
 * error handler turns them into the envelope. `status` overrides the code's default only where HTTP
 * has a more precise answer that clients rely on (405 wrong method, 413 body too large).
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> | null = null,
    options: { status?: number; headers?: Record<string, string>; retryAfterSeconds?: number; quota?: QuotaState } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = options.status ?? ERROR_STATUS[code];
    this.headers = options.headers ?? {};
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.quota) this.quota = options.quota;
  }
  /** Headers only the HTTP layer sets (WWW-Authenticate from the auth middleware). */
  readonly headers: Record<string, string>;
  /** When asking again can succeed; the error handler sends it as Retry-After. */
  readonly retryAfterSeconds?: number;
  /** The quota the refusal is about; the error handler sends it as the IETF RateLimit fields. */
  readonly quota?: QuotaState;
}

export const forbidden = (message: string, details: Record<string, unknown> | null = null) =>
  new ApiError("FORBIDDEN", message, details);

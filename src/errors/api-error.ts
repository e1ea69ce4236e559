import { ERROR_STATUS, type ErrorCode } from "./codes.js";

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
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = options.status ?? ERROR_STATUS[code];
    this.headers = options.headers ?? {};
  }
  readonly headers: Record<string, string>;
}

export const forbidden = (message: string, details: Record<string, unknown> | null = null) =>
  new ApiError("FORBIDDEN", message, details);

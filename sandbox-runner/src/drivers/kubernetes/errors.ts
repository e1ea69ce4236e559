/** ApiException handling: every branch is on the HTTP status code, never on message text. */
import { ApiException } from "@kubernetes/client-node";
import { SandboxError } from "../types.js";

export const NOT_FOUND = 404;
export const CONFLICT = 409;
const FORBIDDEN = 403;
const INVALID = 422;

export function apiCode(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

/** The `Status.message` the API server sent, for error messages (never for branching). */
function statusMessage(err: ApiException<unknown>): string {
  const body = err.body;
  if (typeof body === "string") {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === "string") return parsed.message;
    } catch {
      return body.slice(0, 300);
    }
  }
  if (body && typeof body === "object" && typeof (body as { message?: unknown }).message === "string") {
    return (body as { message: string }).message;
  }
  return `HTTP ${err.code}`;
}

/** Runs a call whose 404 means "already gone": deletes during cleanup are idempotent. */
export async function ignoreNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (apiCode(err) === NOT_FOUND) return undefined;
    throw err;
  }
}

/** Maps an API failure during `what` to a SandboxError with a message an operator can act on. */
export function toSandboxError(err: unknown, what: string): SandboxError {
  if (err instanceof SandboxError) return err;
  if (!(err instanceof ApiException)) {
    return new SandboxError("internal", `${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const detail = statusMessage(err);
  switch (err.code) {
    case FORBIDDEN:
      return new SandboxError("internal", `${what}: forbidden by RBAC (check the runner Role): ${detail}`);
    case INVALID:
      return new SandboxError("sandbox_start_failed", `${what}: the API server rejected the manifest: ${detail}`);
    case CONFLICT:
      return new SandboxError("internal", `${what}: conflicting object already exists: ${detail}`);
    case NOT_FOUND:
      return new SandboxError("internal", `${what}: not found: ${detail}`);
    default:
      return new SandboxError("internal", `${what}: API error ${err.code}: ${detail}`);
  }
}

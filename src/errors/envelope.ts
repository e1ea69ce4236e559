import type { ErrorCode } from "./codes.js";
import { isoNow } from "../lib/time.js";

export interface ErrorEnvelope {
  error: ErrorCode;
  message: string;
  details: Record<string, unknown> | null;
  timestamp: string;
}

/** The spec's error body: `{ error, message, details, timestamp }`. */
export function envelope(code: ErrorCode, message: string, details: Record<string, unknown> | null = null): ErrorEnvelope {
  return { error: code, message, details, timestamp: isoNow() };
}

/** Turns zod issues into `details.fields`: one entry per offending field path. */
export function zodDetails(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code?: string }>) {
  return {
    fields: issues.map((i) => ({
      field: i.path.map(String).join(".") || "(body)",
      message: i.message,
      ...(i.code ? { code: i.code } : {}),
    })),
  };
}

/**
 * The failure policy: which error code and which fault a job that stopped early is reported with.
 *
 * fault "service" (our fault, never billed): runner internal errors, a sandbox the platform could not
 * start, a host that lacks what sandboxes need (sandbox_unavailable), a runner shutdown. fault "workload": the submitter's image or script — an image that cannot
 * be pulled or whose digest does not match (sandbox_ran is false then, so it costs nothing), an app
 * that never became healthy, a script that overran its timeout, an OOM kill — and a cancellation,
 * which the submitter chose; the Worker decides what a cancelled job costs from sandbox_ran/seconds.
 */
import { errorMessage } from "./log.js";
import { JobAbort, WorkloadFailure } from "./errors.js";
import { SandboxError } from "../drivers/types.js";
import { JobGoneError } from "../worker-client/errors.js";
import type { FailCallback } from "@vexxy/contract";

export type Classified =
  | { kind: "fail"; error_code: FailCallback["error_code"]; fault: FailCallback["fault"]; message: string }
  /** The Worker has finished the job already: report nothing. */
  | { kind: "gone"; message: string };

const SANDBOX_FAULTS: Record<SandboxError["code"], FailCallback["fault"]> = {
  image_unavailable: "workload",
  digest_mismatch: "workload",
  sandbox_start_failed: "service",
  sandbox_unavailable: "service",
  timeout: "workload",
  oom_killed: "workload",
  internal: "service",
};

/** Classifies what stopped a job. An abort wins over whatever the interrupted call threw. */
export function classifyFailure(err: unknown, signal: AbortSignal): Classified {
  const cause = signal.aborted ? signal.reason : err;
  if (cause instanceof JobAbort) {
    if (cause.code === "gone") return { kind: "gone", message: cause.message };
    return {
      kind: "fail",
      error_code: cause.code,
      fault: cause.code === "runner_shutdown" ? "service" : "workload",
      message: cause.message,
    };
  }
  if (cause instanceof JobGoneError) return { kind: "gone", message: cause.message };
  if (cause instanceof WorkloadFailure) return { kind: "fail", error_code: cause.code, fault: "workload", message: cause.message };
  if (cause instanceof SandboxError) {
    return { kind: "fail", error_code: cause.code, fault: SANDBOX_FAULTS[cause.code], message: cause.message };
  }
  const command = missingCommand(cause);
  if (command) {
    return {
      kind: "fail",
      error_code: "sandbox_unavailable",
      fault: "service",
      message: `this runner's host has no ${command} (${errorMessage(cause)}); \`npm run doctor\` names what is missing and the command that installs it`,
    };
  }
  return { kind: "fail", error_code: "internal", fault: "service", message: `runner internal error: ${errorMessage(cause)}` };
}

/** The command a failed spawn could not find (`spawn podman ENOENT`), if that is what `err` is. */
function missingCommand(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { path?: unknown };
  if (!(err instanceof Error) || e.code !== "ENOENT" || !e.syscall?.startsWith("spawn")) return undefined;
  return typeof e.path === "string" ? e.path : e.syscall.slice("spawn ".length) || undefined;
}

/** Contract limit on error_message. */
export function clampMessage(message: string): string {
  const m = message.trim() || "unknown error";
  return m.length > 2000 ? m.slice(0, 1997) + "..." : m;
}

import type { RuntimeTrace } from "./types.js";

/** A trace with no events, marked incomplete: what a tracer reports when it observed nothing usable. */
export function emptyTrace(source: RuntimeTrace["source"], durationMs = 0): RuntimeTrace {
  return {
    source,
    from_first_exec: false,
    complete: false,
    duration_ms: durationMs,
    execs: [],
    opens: [],
    mmaps: [],
    connections: [],
    syscall_counts: {},
  };
}

/**
 * The execution profile returned beside the VEX document. The detailed, trace-derived lists are the
 * "profiling" feature: they are included only when the job asked (and paid) for profiling; every job
 * gets the summary the reachability verdicts rest on (trace quality, health, script result).
 * Lists are bounded so one chatty image cannot produce a result the Worker refuses to store.
 */
import type { CoverageResult, ScriptResult } from "../drivers/types.js";
import type { RunHealth, RuntimeTrace } from "../trace/types.js";

export const PROFILE_LIMITS = { files: 5_000, executables: 1_000, libraries: 2_000, connections: 500, outputBytes: 8_192 };

export interface ProfileInput {
  trace: RuntimeTrace;
  coverage: CoverageResult;
  health: RunHealth;
  script: ScriptResult | null;
  probes: { port: number; answered: boolean; detail: string }[] | null;
  exitCode: number | null;
  sandboxSeconds: number;
  profiling: boolean;
  codeCoverage: boolean;
}

export function buildExecutionProfile(p: ProfileInput): Record<string, unknown> {
  const t = p.trace;
  const files = unique(t.opens.filter((o) => o.ok).map((o) => o.path));
  const executables = unique(t.execs.filter((e) => e.ok).map((e) => e.path));
  const libraries = unique(t.mmaps.filter((m) => m.exec).map((m) => m.path));
  const profile: Record<string, unknown> = {
    trace_source: t.source,
    from_first_exec: t.from_first_exec,
    complete: t.complete,
    duration_ms: t.duration_ms,
    sandbox_seconds: p.sandboxSeconds,
    exit_code: p.exitCode,
    health: p.health,
    files_accessed_count: files.length,
    executables_count: executables.length,
    loaded_libraries_count: libraries.length,
    connections_count: t.connections.length,
    test_script: p.script
      ? {
          exit_code: p.script.exitCode,
          timed_out: p.script.timedOut,
          duration_ms: p.script.durationMs,
          stdout: tail(p.script.stdout),
          stderr: tail(p.script.stderr),
        }
      : null,
    probes: p.probes,
    coverage: p.codeCoverage ? p.coverage : { supported: false, reason: "code coverage was not requested" },
    profiling: p.profiling,
  };
  if (p.profiling) {
    Object.assign(profile, {
      files_accessed: bounded(files, PROFILE_LIMITS.files),
      executables: bounded(executables, PROFILE_LIMITS.executables),
      loaded_libraries: bounded(libraries, PROFILE_LIMITS.libraries),
      syscall_counts: t.syscall_counts,
      connections: bounded(
        t.connections.map((c) => ({ syscall: c.syscall, family: c.family, address: c.address, port: c.port ?? null, ok: c.ok })),
        PROFILE_LIMITS.connections,
      ),
    });
  }
  return profile;
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function bounded<T>(items: T[], max: number): { items: T[]; truncated: boolean; total: number } {
  return { items: items.slice(0, max), truncated: items.length > max, total: items.length };
}

/** The end of the output: where a failing script says why. */
function tail(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= PROFILE_LIMITS.outputBytes) return text;
  return "…" + bytes.subarray(bytes.length - PROFILE_LIMITS.outputBytes).toString("utf8");
}

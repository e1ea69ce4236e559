/**
 * The runtime evidence format every tracer produces (strace under podman, the Kubernetes tracing
 * sidecar, Kubescape profiles) and the reachability engine consumes. Paths are absolute paths as
 * seen inside the container's root filesystem.
 */

type TraceSource = "strace" | "kubescape" | "synthetic";

export interface ExecEvent {
  pid: number;
  /** Resolved executable path (after the kernel's lookup). */
  path: string;
  argv: string[];
  ok: boolean;
}

export interface OpenEvent {
  pid: number;
  path: string;
  /** open(2) flags as strace prints them, e.g. "O_RDONLY|O_CLOEXEC". */
  flags: string;
  ok: boolean;
  /** errno name when !ok, e.g. "ENOENT". */
  errno?: string;
}

export interface MmapEvent {
  pid: number;
  path: string;
  /** PROT_EXEC mapping: code from this file was made executable in the process. */
  exec: boolean;
}

export interface ConnectionEvent {
  pid: number;
  syscall: "connect" | "accept" | "bind" | "listen";
  family: "inet" | "inet6" | "unix" | "other";
  address: string;
  port?: number;
  ok: boolean;
}

export interface RuntimeTrace {
  source: TraceSource;
  /** True when tracing began at the container's first exec (nothing ran unobserved). */
  from_first_exec: boolean;
  /** False when the tracer lost events or stopped early; the engine then never claims not_affected. */
  complete: boolean;
  duration_ms: number;
  execs: ExecEvent[];
  opens: OpenEvent[];
  mmaps: MmapEvent[];
  connections: ConnectionEvent[];
  syscall_counts: Record<string, number>;
  /**
   * Paths the tracer collapsed into wildcards (Kubescape's `⋯` and `*`): some file under each was
   * used, but not which. Every package with a file a pattern matches counts as possibly used.
   */
  collapsed_paths?: string[];
}

/** How the run went, as the engine needs to know it before it trusts an absence of evidence. */
export interface RunHealth {
  /** The application started and answered on its ports (or ran to a clean exit when it has none). */
  healthy: boolean;
  /** The application was exercised: a test script that exited 0, or probes/ZAP that got answers. */
  exercised: boolean;
  /** What exercised it: a test script that exited 0 is the strongest evidence of a real workload. */
  exercised_by?: "test_script" | "probes" | "security_scan";
  /** How long the test script ran; a trace shorter than that did not watch the whole exercise. */
  script_ms?: number;
  /** The application's main process exited before the test script finished (so the script exercised nothing, or only part). */
  main_exited_early?: boolean;
  notes: string[];
}

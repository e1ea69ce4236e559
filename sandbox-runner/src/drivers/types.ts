/**
 * The sandbox driver interface: podman for development and CI, Kubernetes in production. A driver
 * owns everything that touches the container platform; the job pipeline (src/pipeline) owns phases,
 * progress, evidence and VEX, and is the same for every driver.
 */
import type { RuntimeTrace } from "../trace/types.js";

export interface SandboxSpec {
  jobId: string;
  imageRef: string;
  /** sha256:<64 hex> — the image is run by this digest, never by tag. */
  imageDigest: string;
  ports: number[];
  environment: Record<string, string>;
  /** Wall-clock limit for the whole sandbox lifetime, seconds. */
  timeoutSeconds: number;
  /** Collect Node V8 coverage etc. where the runtime supports it without rebuilding the image. */
  codeCoverage: boolean;
}

export interface SandboxLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
}

export interface ScriptResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ZapResult {
  status: "completed" | "skipped" | "failed";
  reason?: string;
  /** Raw ZAP traditional-json report when completed. */
  report?: unknown;
}

export interface CoverageResult {
  supported: boolean;
  reason?: string;
  /** Per-file coverage, when supported: path → covered fraction 0..1 */
  files?: Record<string, number>;
}

/** A running sandbox. Every method may be called after stop(); stop() and destroy() are idempotent. */
export interface Sandbox {
  readonly id: string;
  /** When the image's first process started (for billing sandbox run time). */
  readonly startedAt: Date;
  /** What the driver had to do differently (e.g. a writable root fallback) or noticed about the trace. */
  readonly notes?: readonly string[];
  /** Resolves when every port accepts a connection and answers, or rejects with a reason. */
  waitHealthy(timeoutMs: number, signal: AbortSignal): Promise<{ healthy: boolean; reason?: string }>;
  /** Runs the user's script with the target reachable at localhost:<port>. */
  runScript(script: string, timeoutMs: number, signal: AbortSignal): Promise<ScriptResult>;
  /** Probes each port without a script (HTTP GET /, else a TCP connect). */
  probe(signal: AbortSignal): Promise<{ port: number; answered: boolean; detail: string }[]>;
  /** Runs one ZAP scan, in its own container/pod, against this sandbox only. */
  securityScan(signal: AbortSignal): Promise<ZapResult>;
  /** Whether the target's main process is still running (drivers that can tell). */
  isRunning?(): Promise<boolean>;
  /**
   * Stops the target and returns the trace collected since its first exec. `wasRunning`: the
   * target was still up when stop() began (a process that crashed after its health check was not);
   * undefined when the driver cannot tell.
   */
  stop(): Promise<{ trace: RuntimeTrace; coverage: CoverageResult; exitCode: number | null; oomKilled: boolean; wasRunning?: boolean }>;
  /** Removes every container, network, mount and temp file this sandbox created. */
  destroy(): Promise<void>;
}

export class SandboxError extends Error {
  constructor(
    readonly code: "image_unavailable" | "digest_mismatch" | "sandbox_start_failed" | "sandbox_unavailable" | "timeout" | "oom_killed" | "internal",
    message: string,
  ) {
    super(message);
    this.name = "SandboxError";
  }
}

/** One thing analyses need from the runner's host, as /healthz and `npm run doctor` show it. */
export interface HostCheck {
  /** What is checked: "sandbox driver", "tracer", "prober image". */
  name: string;
  /** ok; preparing: being built now (jobs that need it wait); missing: jobs that need it fail. */
  status: "ok" | "preparing" | "missing";
  detail: string;
  /** The one command that fixes it, when it is not ok. */
  fix?: string;
  /** Only jobs with a test script need it (the others run without it). */
  onlyForTestScripts?: boolean;
}

export interface SandboxDriver {
  readonly name: "podman" | "kubernetes";
  /** Makes the image available locally pinned by digest; throws SandboxError on failure or mismatch. */
  prepareImage(spec: SandboxSpec, signal: AbortSignal): Promise<void>;
  /** Creates and starts the sandbox with tracing attached from the first exec. */
  start(spec: SandboxSpec, limits: SandboxLimits, signal: AbortSignal): Promise<Sandbox>;
  /** Removes sandboxes left behind by a previous runner process (crash recovery). */
  sweepOrphans(): Promise<number>;
  /** Prepares what jobs will need from the host (the podman prober image), in the background at start. */
  prepare?(): Promise<void>;
  /** The host's readiness, cheap enough for every /healthz (drivers with nothing on the host omit it). */
  readiness?(): HostCheck[];
  /**
   * Resolves once a job can start here. While something it needs is still being prepared it calls
   * `onHold` once and waits; throws SandboxError("sandbox_unavailable") naming what is missing and its fix.
   */
  whenReady?(needs: { testScript: boolean }, signal: AbortSignal, onHold: () => void): Promise<void>;
  /** Reads a file from the image's root filesystem (package databases for the inventory), or null. */
  readImageFile?(spec: SandboxSpec, path: string): Promise<Buffer | null>;
}

/**
 * An in-memory SandboxDriver for pipeline and server tests. Each step's behaviour is scripted per
 * test; by default every step succeeds quickly and honours its abort signal like a real driver.
 * Records every call, so tests can assert what ran and that every sandbox was destroyed.
 */
import {
  SandboxError,
  type CoverageResult,
  type HostCheck,
  type Sandbox,
  type SandboxDriver,
  type SandboxLimits,
  type SandboxSpec,
  type ScriptResult,
  type ZapResult,
} from "../../src/drivers/types.js";
import type { RuntimeTrace } from "../../src/trace/types.js";

export type StopResult = Awaited<ReturnType<Sandbox["stop"]>>;
type Probe = { port: number; answered: boolean; detail: string };

export interface FakeBehaviour {
  /** What the host lacks or is preparing (readiness() and /healthz); everything ok when absent. */
  readiness?: () => HostCheck[];
  /** Whether a job can start: may call onHold and wait, or throw sandbox_unavailable; resolves when absent. */
  whenReady?: (needs: { testScript: boolean }, signal: AbortSignal, onHold: () => void) => Promise<void>;
  prepareImage?: (spec: SandboxSpec, signal: AbortSignal) => Promise<void>;
  start?: (spec: SandboxSpec, signal: AbortSignal) => Promise<void>;
  waitHealthy?: (signal: AbortSignal) => Promise<{ healthy: boolean; reason?: string }>;
  runScript?: (script: string, timeoutMs: number, signal: AbortSignal) => Promise<ScriptResult>;
  probe?: (signal: AbortSignal) => Promise<Probe[]>;
  securityScan?: (signal: AbortSignal) => Promise<ZapResult>;
  stop?: () => Promise<StopResult>;
  isRunning?: () => Promise<boolean>;
  destroy?: () => Promise<void>;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** A promise the test releases by hand, to hold a job inside one phase deterministically. */
export function gate(): { wait(signal?: AbortSignal): Promise<void>; open(): void; entered: Promise<void> } {
  let open!: () => void;
  let markEntered!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const entered = new Promise<void>((r) => (markEntered = r));
  return {
    entered,
    open,
    wait(signal) {
      markEntered();
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        void opened.then(resolve);
      });
    },
  };
}

export function sampleTrace(overrides: Partial<RuntimeTrace> = {}): RuntimeTrace {
  return {
    source: "synthetic",
    from_first_exec: true,
    complete: true,
    duration_ms: 1234,
    execs: [
      { pid: 1, path: "/usr/sbin/nginx", argv: ["nginx", "-g", "daemon off;"], ok: true },
      { pid: 2, path: "/bin/missing", argv: ["missing"], ok: false },
    ],
    opens: [
      { pid: 1, path: "/etc/nginx/nginx.conf", flags: "O_RDONLY", ok: true },
      { pid: 1, path: "/lib/libssl.so.3", flags: "O_RDONLY|O_CLOEXEC", ok: true },
      { pid: 1, path: "/etc/nginx/nginx.conf", flags: "O_RDONLY", ok: true },
      { pid: 1, path: "/etc/absent", flags: "O_RDONLY", ok: false, errno: "ENOENT" },
    ],
    mmaps: [
      { pid: 1, path: "/lib/libssl.so.3", exec: true },
      { pid: 1, path: "/usr/share/data.bin", exec: false },
    ],
    connections: [{ pid: 1, syscall: "bind", family: "inet", address: "0.0.0.0", port: 80, ok: true }],
    syscall_counts: { openat: 4, execve: 2, mmap: 2, bind: 1 },
    ...overrides,
  };
}

export const defaultStop = (): StopResult => ({
  trace: sampleTrace(),
  coverage: { supported: false, reason: "not a Node image" } satisfies CoverageResult,
  exitCode: null,
  oomKilled: false,
});

export class FakeSandbox implements Sandbox {
  // As with a real container, the sandbox started a moment before the driver handed it over; a
  // start time of "now" let a failure within the same millisecond report 0 sandbox seconds.
  readonly startedAt = new Date(Date.now() - 10);
  destroyed = 0;
  stopped = false;
  constructor(
    readonly id: string,
    private readonly b: FakeBehaviour,
    private readonly record: (call: string) => void,
  ) {}
  async waitHealthy(_timeoutMs: number, signal: AbortSignal) {
    this.record("waitHealthy");
    if (this.b.waitHealthy) return this.b.waitHealthy(signal);
    // A real app takes a moment to come up; it also makes every started sandbox bill > 0 s.
    await delay(20, signal);
    return { healthy: true };
  }
  async runScript(script: string, timeoutMs: number, signal: AbortSignal): Promise<ScriptResult> {
    this.record("runScript");
    if (this.b.runScript) return this.b.runScript(script, timeoutMs, signal);
    await delay(10, signal);
    return { exitCode: 0, stdout: "ok\n", stderr: "", timedOut: false, durationMs: 10 };
  }
  async probe(signal: AbortSignal): Promise<Probe[]> {
    this.record("probe");
    if (this.b.probe) return this.b.probe(signal);
    return [{ port: 80, answered: true, detail: "HTTP 200" }];
  }
  async securityScan(signal: AbortSignal): Promise<ZapResult> {
    this.record("securityScan");
    if (this.b.securityScan) return this.b.securityScan(signal);
    return { status: "skipped", reason: "no ZAP image configured" };
  }
  async isRunning(): Promise<boolean> {
    return this.b.isRunning ? this.b.isRunning() : !this.stopped;
  }
  async stop(): Promise<StopResult> {
    this.record("stop");
    this.stopped = true;
    return this.b.stop ? this.b.stop() : defaultStop();
  }
  async destroy(): Promise<void> {
    this.record("destroy");
    this.destroyed++;
    if (this.b.destroy) await this.b.destroy();
  }
}

export class FakeDriver implements SandboxDriver {
  readonly name = "podman" as const;
  readonly calls: string[] = [];
  readonly sandboxes: FakeSandbox[] = [];
  readonly specs: SandboxSpec[] = [];
  limits: SandboxLimits | undefined;
  swept = 0;

  constructor(public behaviour: FakeBehaviour = {}) {}

  readiness(): HostCheck[] {
    return this.behaviour.readiness?.() ?? [];
  }

  async whenReady(needs: { testScript: boolean }, signal: AbortSignal, onHold: () => void): Promise<void> {
    this.calls.push("whenReady");
    if (this.behaviour.whenReady) await this.behaviour.whenReady(needs, signal, onHold);
  }

  async prepareImage(spec: SandboxSpec, signal: AbortSignal): Promise<void> {
    this.calls.push("prepareImage");
    this.specs.push(spec);
    if (this.behaviour.prepareImage) await this.behaviour.prepareImage(spec, signal);
  }

  async start(spec: SandboxSpec, limits: SandboxLimits, signal: AbortSignal): Promise<Sandbox> {
    this.calls.push("start");
    this.limits = limits;
    if (this.behaviour.start) await this.behaviour.start(spec, signal);
    const sb = new FakeSandbox(`fake-${spec.jobId}-${this.sandboxes.length}`, this.behaviour, (c) => this.calls.push(c));
    this.sandboxes.push(sb);
    return sb;
  }

  async sweepOrphans(): Promise<number> {
    this.swept++;
    return 0;
  }
}

export { SandboxError };

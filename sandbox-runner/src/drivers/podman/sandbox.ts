/**
 * One running podman sandbox: the traced target container, the prober containers that run the
 * user's script in its network namespace, and ZAP. Owns every resource it creates and removes them
 * in destroy().
 */
import { chmod, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RuntimeTrace } from "../../trace/types.js";
import {
  SandboxError,
  type CoverageResult,
  type Sandbox,
  type SandboxLimits,
  type SandboxSpec,
  type ScriptResult,
  type ZapResult,
} from "../types.js";
import { containerName, envFileContent, proberRunArgs, targetCreateArgs } from "./container-args.js";
import { readV8Coverage } from "./coverage.js";
import { podman, podmanOk } from "./exec.js";
import { probePorts } from "./netns-probe.js";
import { StraceTracer, type TraceMode } from "./tracer.js";
import { runZap } from "./zap.js";
import { emptyTrace } from "../../trace/empty.js";

export interface SandboxSettings {
  imageId: string;
  proberImage: string;
  zapImage: string;
  workDir: string;
  nodeCoverage: boolean;
  stopGraceSeconds: number;
  runnerId?: string;
  traceMode: TraceMode;
}

const SCRIPT_OUTPUT_LIMIT = 64 * 1024;

interface TargetState {
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; OOMKilled: boolean; FinishedAt?: string };
}

export class PodmanSandbox implements Sandbox {
  readonly id: string;
  startedAt = new Date(0);
  /** What a reader of the run should know: read-only fallback, trace problems. */
  readonly notes: string[] = [];
  private readonly targetName: string;
  private tracer: StraceTracer | null = null;
  private pid = 0;
  private readOnly = true;
  private readonly lifetime = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  /** The kill the wall-clock limit started; a step that fails on the limit waits for it. */
  private expiring: Promise<void> | undefined;
  private proberCount = 0;
  private stopped: ReturnType<PodmanSandbox["doStop"]> | null = null;
  private destroyed: Promise<void> | null = null;

  constructor(
    private readonly spec: SandboxSpec,
    private readonly limits: SandboxLimits,
    private readonly settings: SandboxSettings,
  ) {
    this.id = containerName(spec.jobId, "target");
    this.targetName = this.id;
  }

  /** create → init → attach strace to runc init → start; the wall-clock limit starts here. */
  async launch(signal: AbortSignal): Promise<void> {
    await mkdir(this.settings.workDir, { recursive: true, mode: 0o700 });
    const { text, inline } = envFileContent(this.spec.environment);
    const envFile = join(this.settings.workDir, "env");
    await writeFile(envFile, text, { mode: 0o600 });
    let coverageDir: string | undefined;
    if (this.settings.nodeCoverage) {
      coverageDir = join(this.settings.workDir, "coverage");
      await mkdir(coverageDir, { recursive: true });
      await chmod(coverageDir, 0o777); // the image's user, whoever it is, must write here
    }
    const traceDir = join(this.settings.workDir, `trace-${this.readOnly ? "ro" : "rw"}`);
    await mkdir(traceDir, { recursive: true });

    await podmanOk(
      targetCreateArgs(this.spec, this.limits, {
        imageId: this.settings.imageId,
        readOnly: this.readOnly,
        envFile,
        inlineEnv: inline,
        ...(this.settings.runnerId ? { runnerId: this.settings.runnerId } : {}),
        ...(coverageDir ? { coverageDir } : {}),
      }),
      { signal },
    );
    if (this.settings.traceMode === "seccomp") {
      this.tracer = await StraceTracer.initContainer(traceDir, this.targetName, async () => (await this.inspect())?.State.Pid ?? 0);
      this.pid = this.tracer.pid;
    } else {
      await podmanOk(["init", this.targetName], { signal });
      this.pid = (await this.inspect())?.State.Pid ?? 0;
      if (!this.pid) throw new Error("podman init left no container process to trace");
      this.tracer = await StraceTracer.attach(traceDir, this.pid);
    }
    if (signal.aborted) throw signal.reason;
    await podmanOk(["start", this.targetName], { signal });
    this.startedAt = new Date();
    if (!this.timer) {
      this.timer = setTimeout(() => this.expire(), this.spec.timeoutSeconds * 1000);
      this.timer.unref();
    }
  }

  waitHealthy(timeoutMs: number, signal: AbortSignal): Promise<{ healthy: boolean; reason?: string }> {
    return this.step(() => this.pollHealthy(timeoutMs, signal));
  }

  private async pollHealthy(timeoutMs: number, signal: AbortSignal): Promise<{ healthy: boolean; reason?: string }> {
    const sig = this.guard(signal);
    const deadline = Date.now() + timeoutMs;
    while (true) {
      this.checkTimeout();
      if (sig.aborted) throw sig.reason;
      const state = await this.inspect();
      if (!state?.State.Running) {
        const code = state?.State.ExitCode;
        if (this.spec.ports.length === 0 && code === 0) return { healthy: true };
        let logs = await this.logs();
        // conmon may still be writing the last lines when the exit is already visible.
        for (let i = 0; i < 3 && this.readOnly && !/read-only file system/i.test(logs); i++) {
          await sleep(200, sig);
          logs = await this.logs();
        }
        if (this.readOnly && /read-only file system/i.test(logs)) {
          await this.relaunchWritable(sig);
          continue;
        }
        return { healthy: false, reason: `the application exited with code ${code} before answering: ${logs.slice(-500)}` };
      }
      if (this.spec.ports.length === 0) return { healthy: true };
      const probes = await probePorts(this.pid, this.spec.ports, sig);
      if (probes.every((p) => p.answered)) return { healthy: true };
      if (Date.now() >= deadline) {
        const waiting = probes.filter((p) => !p.answered).map((p) => `${p.port} (${p.detail})`);
        return { healthy: false, reason: `no answer within ${Math.round(timeoutMs / 1000)} s on port(s) ${waiting.join(", ")}` };
      }
      await sleep(250, sig);
    }
  }

  runScript(script: string, timeoutMs: number, signal: AbortSignal): Promise<ScriptResult> {
    return this.step(() => this.runProber(script, timeoutMs, signal));
  }

  private async runProber(script: string, timeoutMs: number, signal: AbortSignal): Promise<ScriptResult> {
    const sig = this.guard(signal);
    this.checkTimeout();
    const name = containerName(this.spec.jobId, `prober-${++this.proberCount}`);
    const started = Date.now();
    const r = await podman(
      proberRunArgs({
        jobId: this.spec.jobId,
        targetName: this.targetName,
        proberImage: this.settings.proberImage,
        name,
        ...(this.settings.runnerId ? { runnerId: this.settings.runnerId } : {}),
      }),
      { stdin: script, timeoutMs, signal: sig, maxOutputBytes: SCRIPT_OUTPUT_LIMIT },
    );
    // Killing the podman client does not stop the container; remove it by name.
    if (r.timedOut || r.aborted) await podman(["rm", "-f", "-t", "0", name]);
    this.checkTimeout();
    if (r.aborted) throw sig.reason;
    return {
      // 124 like coreutils timeout(1) when we stopped it.
      exitCode: r.timedOut ? 124 : (r.code ?? 137),
      stdout: r.stdout,
      stderr: r.stderr + (r.truncated ? "\n[output truncated at 64 KiB]" : ""),
      timedOut: r.timedOut,
      durationMs: Date.now() - started,
    };
  }

  probe(signal: AbortSignal): Promise<{ port: number; answered: boolean; detail: string }[]> {
    return this.step(() => {
      this.checkTimeout();
      return probePorts(this.pid, this.spec.ports, this.guard(signal));
    });
  }

  securityScan(signal: AbortSignal): Promise<ZapResult> {
    return this.step(() => this.scan(signal));
  }

  private scan(signal: AbortSignal): Promise<ZapResult> {
    const sig = this.guard(signal);
    this.checkTimeout();
    const remaining = this.startedAt.getTime() + this.spec.timeoutSeconds * 1000 - Date.now();
    return runZap({
      jobId: this.spec.jobId,
      targetName: this.targetName,
      zapImage: this.settings.zapImage,
      workDir: join(this.settings.workDir, "zap"),
      ports: this.spec.ports,
      timeoutMs: Math.max(30_000, Math.min(remaining, 30 * 60_000)),
      signal: sig,
      ...(this.settings.runnerId ? { runnerId: this.settings.runnerId } : {}),
    });
  }

  async isRunning(): Promise<boolean> {
    return (await this.inspect())?.State.Running ?? false;
  }

  stop(): Promise<{ trace: RuntimeTrace; coverage: CoverageResult; exitCode: number | null; oomKilled: boolean; wasRunning?: boolean }> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop() {
    clearTimeout(this.timer);
    const stoppedAt = Date.now();
    // A graceful stop (SIGTERM, SIGKILL after the grace period) only where something is written at
    // exit: V8 coverage. Otherwise the evidence is complete once the test script is done, and waiting
    // out a PID 1 that ignores SIGTERM would only add the grace period: SIGKILL at once. strace sees
    // the exit either way, so the trace ends where the process did.
    const grace = this.settings.nodeCoverage ? this.settings.stopGraceSeconds : 0;
    await podman(["stop", "-t", String(grace), this.targetName]);
    await this.tracer?.finish(10_000);
    const state = await this.inspect();
    // Still running when we stopped it, or had it exited already? Its exit time says, without a
    // second inspect on the way in (podman records FinishedAt with nanoseconds, on this host's clock).
    const finished = state?.State.FinishedAt ? Date.parse(state.State.FinishedAt) : NaN;
    const wasRunning = state && Number.isFinite(finished) && finished > 0 ? finished >= stoppedAt - 1 : undefined;
    const extra = this.timedOut ? [`the sandbox hit its ${this.spec.timeoutSeconds} s limit and was killed`] : [];
    const durationMs = Math.max(0, stoppedAt - this.startedAt.getTime());
    const { trace, problems } = this.tracer
      ? await this.tracer.trace({ fromFirstExec: true, durationMs, extraProblems: [] })
      : { trace: emptyTrace("strace", durationMs), problems: ["no tracer was attached"] };
    this.notes.push(...problems.map((p) => `trace: ${p}`), ...extra);
    const coverage: CoverageResult = this.settings.nodeCoverage
      ? await readV8Coverage(join(this.settings.workDir, "coverage"))
      : { supported: false, reason: "not supported for this runtime" };
    return {
      trace,
      coverage,
      exitCode: state ? state.State.ExitCode : null,
      oomKilled: state?.State.OOMKilled ?? false,
      ...(wasRunning !== undefined ? { wasRunning } : {}),
    };
  }

  destroy(): Promise<void> {
    this.destroyed ??= this.doDestroy();
    return this.destroyed;
  }

  private async doDestroy(): Promise<void> {
    clearTimeout(this.timer);
    this.lifetime.abort(new SandboxError("internal", "sandbox destroyed"));
    // Containers first: in seccomp mode conmon must not lose its tracer while it still runs.
    await removeJobContainers(this.spec.jobId);
    await this.tracer?.finish(5_000);
    this.tracer?.kill();
    await rm(this.settings.workDir, { recursive: true, force: true });
  }

  private async relaunchWritable(signal: AbortSignal): Promise<void> {
    this.notes.push("the image could not run with a read-only root filesystem; it ran with a writable root");
    await podman(["rm", "-f", "-t", "0", this.targetName]);
    await this.tracer?.finish(5_000);
    this.readOnly = false;
    await this.launch(signal);
  }

  private expire(): void {
    this.timedOut = true;
    this.expiring = this.killAll();
    // Steps in flight stop now; each waits for the kill before it reports the timeout.
    this.lifetime.abort(new SandboxError("timeout", `the sandbox exceeded its wall-clock limit of ${this.spec.timeoutSeconds} s`));
  }

  private async killAll(): Promise<void> {
    await podman(["kill", this.targetName]);
    // kill only sends the signal; the container is stopped once conmon has reaped it.
    await podman(["wait", this.targetName], { timeoutMs: 10_000 });
    const others = await jobContainers(this.spec.jobId);
    const extra = others.filter((n) => n !== this.targetName);
    if (extra.length) await podman(["rm", "-f", "-t", "0", ...extra]);
  }

  /** Runs a step; if it fails because the wall-clock limit struck, it fails only once the sandbox is down. */
  private async step<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (this.timedOut) await this.expiring;
      throw e;
    }
  }

  private checkTimeout(): void {
    if (this.timedOut) {
      throw new SandboxError("timeout", `the sandbox exceeded its wall-clock limit of ${this.spec.timeoutSeconds} s`);
    }
  }

  private guard(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.lifetime.signal]);
  }

  private async inspect(): Promise<TargetState | null> {
    const r = await podman(["container", "inspect", "--format", "json", this.targetName]);
    if (r.code !== 0) return null;
    return (JSON.parse(r.stdout) as TargetState[])[0] ?? null;
  }

  private async logs(): Promise<string> {
    const r = await podman(["logs", "--tail", "50", this.targetName], { maxOutputBytes: 16 * 1024 });
    return (r.stdout + r.stderr).trim();
  }
}

/** Names of every container labelled with this job id. */
async function jobContainers(jobId: string): Promise<string[]> {
  const r = await podman(["ps", "-a", "--filter", `label=vexxy.job-id=${jobId}`, "--format", "{{.Names}}"]);
  return r.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

async function removeJobContainers(jobId: string): Promise<void> {
  const names = await jobContainers(jobId);
  if (names.length) await podman(["rm", "-f", "-t", "0", ...names]);
}


function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

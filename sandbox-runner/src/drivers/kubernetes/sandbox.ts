/** One analysis in the cluster: the target Job and everything it owns. */
import type { V1Pod, V1Service } from "@kubernetes/client-node";
import type { RuntimeTrace } from "../../trace/types.js";
import { type CoverageResult, type Sandbox, SandboxError, type SandboxSpec, type ScriptResult, type ZapResult } from "../types.js";
import type { DriverContext } from "./context.js";
import { runHelperPod } from "./helpers-run.js";
import {
  buildProberPod,
  buildScriptConfigMap,
  buildZapConfigMap,
  buildZapPod,
  PROBE_LINE,
  PROBE_SCRIPT,
  ZAP_BEGIN,
  ZAP_END,
  zapPlan,
} from "./manifests/helpers.js";
import { buildNetworkPolicies, buildService } from "./manifests/network.js";
import type { OwnerJob } from "./manifests/owner.js";
import { LABEL, objectNames, TARGET_CONTAINER } from "./names.js";
import { createReplacing, deleteObject } from "./objects.js";
import { jobFailure, type TargetState, targetState } from "./status.js";
import { emptyTrace } from "./tracer/types.js";
import { waitUntil, WatchTimeout } from "./watcher.js";

type StopResult = { trace: RuntimeTrace; coverage: CoverageResult; exitCode: number | null; oomKilled: boolean };

/** Thrown by waitStarted when kubelet refuses runAsNonRoot for an image that runs as root. */
export class RunsAsRoot extends Error {
  constructor(readonly cause: SandboxError) {
    super(cause.message);
  }
}

export class KubernetesSandbox implements Sandbox {
  readonly id: string;
  startedAt = new Date();
  private readonly names;
  private targetHost = "";
  private runs = 0;
  private podName: string | undefined;
  private stopping: Promise<StopResult> | undefined;
  private destroying: Promise<void> | undefined;

  constructor(
    private readonly ctx: DriverContext,
    private readonly spec: SandboxSpec,
    private readonly owner: OwnerJob,
    private readonly image: string,
  ) {
    this.id = owner.name;
    this.names = objectNames(spec.jobId);
  }

  /** The NetworkPolicies and the Service, owned by the Job. */
  async createSupporting(): Promise<void> {
    const { cfg, clients } = this.ctx;
    for (const policy of buildNetworkPolicies(this.spec.jobId, this.spec.ports, cfg, this.owner)) {
      await createReplacing(clients, "NetworkPolicy", cfg.namespace, policy);
    }
    const service = buildService(this.spec.jobId, this.spec.ports, cfg, this.owner);
    if (service) {
      const created: V1Service = await createReplacing(clients, "Service", cfg.namespace, service);
      this.targetHost = created.spec?.clusterIP ?? `${this.names.service}.${cfg.namespace}.svc`;
    }
  }

  /** This Job's target pod (not a previous attempt's pod still terminating). */
  private targetPod(): V1Pod | undefined {
    if (this.podName) return this.ctx.pods.get(this.podName);
    const pod = this.ctx.pods
      .items()
      .find((p) => p.metadata?.labels?.[LABEL.role] === "target" && p.metadata.ownerReferences?.some((r) => r.uid === this.owner.uid));
    if (pod) this.podName = pod.metadata?.name;
    return pod;
  }

  private state(): TargetState {
    const failure = jobFailure(this.ctx.jobs.get(this.owner.name));
    if (failure) return { kind: "failed", error: failure };
    return targetState(this.targetPod(), this.image);
  }

  /** Resolves once the target container runs (or already ran); throws the start failure otherwise. */
  async waitStarted(signal: AbortSignal): Promise<void> {
    let unschedulableSince: number | undefined;
    const graceMs = this.ctx.cfg.unschedulableGraceSeconds * 1000;
    const st = await waitUntil(
      [this.ctx.pods, this.ctx.jobs],
      (wake) => {
        const s = this.state();
        if (s.kind === "failed") throw s.runAsRootRefused ? new RunsAsRoot(s.error) : s.error;
        if (s.kind === "running" || s.kind === "terminated") return s;
        if (!s.unschedulable) {
          unschedulableSince = undefined;
          return undefined;
        }
        unschedulableSince ??= Date.now();
        const left = unschedulableSince + graceMs - Date.now();
        if (left <= 0) throw new SandboxError("sandbox_start_failed", `no node can run the sandbox (Unschedulable): ${s.unschedulable}`);
        wake(left);
        return undefined;
      },
      this.spec.timeoutSeconds * 1000,
      signal,
      "the sandbox to start",
    ).catch((err: unknown) => {
      if (err instanceof WatchTimeout) throw new SandboxError("timeout", "the sandbox did not start within its time limit");
      throw err;
    });
    if (st.startedAt) this.startedAt = st.startedAt;
  }

  async waitHealthy(timeoutMs: number, signal: AbortSignal): Promise<{ healthy: boolean; reason?: string }> {
    let result: { healthy: boolean; reason?: string };
    try {
      result = await waitUntil(
        [this.ctx.pods, this.ctx.jobs],
        () => {
          const s = this.state();
          if (s.kind === "failed") throw s.error;
          if (s.kind === "terminated") {
            if (s.oomKilled) throw new SandboxError("oom_killed", "the application was OOM-killed (memory limit reached) before it became healthy");
            return { healthy: false, reason: `the application exited with code ${s.exitCode} before it became healthy` };
          }
          if (s.kind === "running" && s.ready) return { healthy: true };
          return undefined;
        },
        timeoutMs,
        signal,
        "the application to become ready",
      );
    } catch (err) {
      if (err instanceof WatchTimeout) return { healthy: false, reason: `the application did not accept connections within ${Math.round(timeoutMs / 1000)}s` };
      throw err;
    }
    // kubelet's readiness probe checks the first port; the others are checked once from a prober pod.
    if (!result.healthy || this.spec.ports.length < 2) return result;
    const silent = (await this.probe(signal)).filter((p) => !p.answered);
    if (silent.length === 0) return result;
    return { healthy: false, reason: `port(s) ${silent.map((p) => p.port).join(", ")} did not answer` };
  }

  private async prober(script: string, timeoutSeconds: number, signal: AbortSignal) {
    const n = ++this.runs;
    const { cfg } = this.ctx;
    const cm = buildScriptConfigMap(this.names.script(n), this.spec.jobId, script, cfg, this.owner);
    const pod = buildProberPod(
      {
        name: this.names.prober(n),
        jobId: this.spec.jobId,
        configMap: this.names.script(n),
        targetHost: this.targetHost,
        ports: this.spec.ports,
        timeoutSeconds,
      },
      cfg,
      this.owner,
    );
    // The pod deadline stops a script that outlives its timeout; the wait allows for pulling and scheduling.
    return runHelperPod(this.ctx, cm, pod, "prober", (timeoutSeconds + 120) * 1000, signal);
  }

  async runScript(script: string, timeoutMs: number, signal: AbortSignal): Promise<ScriptResult> {
    const run = await this.prober(script, Math.max(1, Math.ceil(timeoutMs / 1000)), signal);
    return {
      exitCode: run.exitCode ?? -1,
      // The pod log interleaves the script's stdout and stderr; Kubernetes keeps no separate streams.
      stdout: run.log,
      stderr: "",
      timedOut: run.timedOut,
      durationMs: run.durationMs,
    };
  }

  async probe(signal: AbortSignal): Promise<{ port: number; answered: boolean; detail: string }[]> {
    if (this.spec.ports.length === 0) return [];
    const run = await this.prober(PROBE_SCRIPT, 30, signal);
    return this.spec.ports.map((port) => {
      const line = run.log.split("\n").find((l) => l.startsWith(`${PROBE_LINE} ${port} `));
      if (!line) return { port, answered: false, detail: run.timedOut ? "probe timed out" : "probe reported nothing" };
      const [, , answered, ...detail] = line.trim().split(" ");
      return { port, answered: answered === "1", detail: detail.join(" ") };
    });
  }

  async securityScan(signal: AbortSignal): Promise<ZapResult> {
    if (this.spec.ports.length === 0) return { status: "skipped", reason: "the image exposes no ports" };
    const { cfg } = this.ctx;
    const plan = zapPlan(this.targetHost, this.spec.ports, Math.max(3, Math.floor(cfg.zapTimeoutSeconds / 60) - 2));
    const run = await runHelperPod(
      this.ctx,
      buildZapConfigMap(this.names.zapPlan, this.spec.jobId, plan, cfg, this.owner),
      buildZapPod(this.names.zapPod, this.spec.jobId, this.names.zapPlan, cfg, this.owner),
      "zap",
      (cfg.zapTimeoutSeconds + 120) * 1000,
      signal,
    );
    if (run.timedOut) return { status: "failed", reason: "the ZAP scan did not finish within its time limit" };
    const report = parseZapLog(run.log);
    if (report === undefined) return { status: "failed", reason: `ZAP produced no report (exit code ${run.exitCode})` };
    return { status: "completed", report };
  }

  stop(): Promise<StopResult> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<StopResult> {
    const { cfg, clients, tracer } = this.ctx;
    const pod = this.targetPod();
    const podName = pod?.metadata?.name;
    const started = this.startedAt.getTime();
    let trace: RuntimeTrace = emptyTrace(tracer.kind === "kubescape" ? "kubescape" : "strace", Date.now() - started);
    if (podName) {
      const collection = await tracer.begin({ namespace: cfg.namespace, jobName: this.owner.name, podName, startedAt: this.startedAt });
      if (this.state().kind !== "terminated") {
        await deleteObject(clients, "Pod", cfg.namespace, podName, cfg.terminationGraceSeconds);
        await waitUntil(
          [this.ctx.pods],
          () => (this.ctx.pods.isGone(podName) || this.state().kind === "terminated" ? true : undefined),
          (cfg.terminationGraceSeconds + 30) * 1000,
          AbortSignal.timeout((cfg.terminationGraceSeconds + 60) * 1000),
          "the target to stop",
        ).catch(() => undefined);
      }
      trace = await collection.finish(AbortSignal.timeout((cfg.terminationGraceSeconds + cfg.kubescapeProfileWaitSeconds + 60) * 1000)).catch(() => trace);
      const image = collection.image?.();
      if (image) this.ctx.images.set(this.spec.jobId, image);
    }
    const final = this.state();
    return {
      trace,
      coverage: { supported: false, reason: "code coverage is not collected by the Kubernetes driver" },
      exitCode: final.kind === "terminated" ? final.exitCode : null,
      oomKilled: final.kind === "terminated" && final.oomKilled,
    };
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      try {
        await deleteObject(this.ctx.clients, "Job", this.ctx.cfg.namespace, this.owner.name);
      } finally {
        if (this.podName) this.ctx.pods.forget([this.podName]);
        this.ctx.released(this.spec.jobId);
      }
    })();
    return this.destroying;
  }
}

/** The ZAP report JSON between the pod's report markers, or undefined. */
function parseZapLog(log: string): unknown {
  const lines = log.split(/\r?\n/);
  const begin = lines.findIndex((l) => l.startsWith(ZAP_BEGIN));
  const end = lines.findIndex((l, i) => i > begin && l.startsWith(ZAP_END));
  if (begin < 0 || end < 0) return undefined;
  const b64 = lines.slice(begin + 1, end).join("");
  if (!b64) return undefined;
  try {
    return JSON.parse(Buffer.from(b64, "base64").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Target container name, re-exported for tests reading pod specs. */

/** The Kubernetes sandbox driver: one Job per analysis in the sandbox namespace, watched, not polled. */
import type { ImageFilesystemSnapshot } from "../../image/root-fs.js";
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import { type Sandbox, type SandboxDriver, SandboxError, type SandboxLimits, type SandboxSpec } from "../types.js";
import { type KubeClients, kubeConfigFor, makeKubeClients } from "./client.js";
import type { KubernetesConfig } from "./config.js";
import type { DriverContext } from "./context.js";
import { apiCode, CONFLICT, toSandboxError } from "./errors.js";
import type { Lookup } from "../../egress/proxy.js";
import { checkPullEgress } from "../registry-egress.js";
import { pinnedImage } from "./manifests/image.js";
import { buildTargetJob } from "./manifests/job.js";
import { ownerOf } from "./manifests/owner.js";
import { MANAGED_SELECTOR } from "./names.js";
import { deleteObject } from "./objects.js";
import { RunsAsRoot, KubernetesSandbox } from "./sandbox.js";
import { sweepOrphans } from "./sweep.js";
import { KubescapeTracer } from "./tracer/kubescape.js";
import { SidecarTracer } from "./tracer/sidecar.js";
import type { Tracer } from "./tracer/types.js";
import { WatchedCollection } from "./watcher.js";

export class KubernetesDriver implements SandboxDriver {
  readonly name = "kubernetes" as const;
  private readonly ctx: DriverContext;
  private watching: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Job ids with a sandbox in this process: never orphans. */
  private readonly live = new Set<string>();

  constructor(
    private readonly cfg: KubernetesConfig,
    clients: KubeClients = makeKubeClients(kubeConfigFor(cfg)),
    tracer?: Tracer,
    /** Name resolution for the registry egress check (tests stand in for DNS). */
    private readonly lookup?: Lookup,
  ) {
    const ns = cfg.namespace;
    const pods = new WatchedCollection<V1Pod>(
      clients.kc,
      `/api/v1/namespaces/${ns}/pods`,
      () => clients.core.listNamespacedPod({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
      MANAGED_SELECTOR,
      cfg.watchRestartMs,
    );
    const jobs = new WatchedCollection<V1Job>(
      clients.kc,
      `/apis/batch/v1/namespaces/${ns}/jobs`,
      () => clients.batch.listNamespacedJob({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
      MANAGED_SELECTOR,
      cfg.watchRestartMs,
    );
    this.ctx = {
      cfg,
      clients,
      pods,
      jobs,
      tracer: tracer ?? (cfg.tracer === "kubescape" ? new KubescapeTracer(cfg, clients) : new SidecarTracer(cfg, clients)),
      released: (jobId) => this.live.delete(jobId),
      images: new Map(),
    };
  }

  /**
   * The image as the tracer read it from the job's running target (paths, links, package databases,
   * loaders and #! lines), once; null when the tracer could not (Kubescape, a target gone too soon).
   */
  takeImageFilesystem(jobId: string): ImageFilesystemSnapshot | null {
    const snap = this.ctx.images.get(jobId) ?? null;
    this.ctx.images.delete(jobId);
    // Bounded: a job that failed after its trace never asks for its image.
    for (const k of [...this.ctx.images.keys()].slice(0, Math.max(0, this.ctx.images.size - 32))) this.ctx.images.delete(k);
    return snap;
  }

  /** The watch caches, for tests and metrics. */
  get watches() {
    return { pods: this.ctx.pods, jobs: this.ctx.jobs };
  }

  private ensureWatching(): Promise<void> {
    this.watching ??= Promise.all([this.ctx.pods.start(), this.ctx.jobs.start()]).then(() => undefined);
    return this.watching;
  }

  /**
   * The runner cannot pull: it checks the reference can be pinned to the job's digest, and the
   * kubelet pulls `repo@sha256:…`. A failed pull surfaces from start() as image_unavailable.
   * The registry egress policy is applied to the registry's name and to the addresses it resolves
   * to from the runner's pod. The kubelet resolves again on the node, so this cannot stop DNS
   * rebinding: the node's egress must be filtered too (docs/kubernetes.md, "Registry egress").
   */
  async prepareImage(spec: SandboxSpec, _signal: AbortSignal): Promise<void> {
    const image = pinnedImage(spec.imageRef, spec.imageDigest);
    await checkPullEgress(image, this.cfg.allowedRegistries, this.lookup);
  }

  async start(spec: SandboxSpec, limits: SandboxLimits, signal: AbortSignal): Promise<Sandbox> {
    const image = pinnedImage(spec.imageRef, spec.imageDigest);
    await this.ensureWatching();
    this.live.add(spec.jobId);
    let nonRoot = true;
    for (;;) {
      let sandbox: KubernetesSandbox | undefined;
      try {
        const job = await this.createJob(buildTargetJob(spec, limits, this.cfg, this.ctx.tracer, { nonRoot }));
        sandbox = new KubernetesSandbox(this.ctx, spec, ownerOf(job), image);
        await sandbox.createSupporting();
        await sandbox.waitStarted(signal);
        return sandbox;
      } catch (err) {
        if (sandbox) await sandbox.destroy().catch(() => undefined);
        this.live.delete(spec.jobId);
        if (err instanceof RunsAsRoot && nonRoot && this.cfg.nonRoot === "preferred" && !signal.aborted) {
          nonRoot = false; // the image needs root: run it as root, still without capabilities
          this.live.add(spec.jobId);
          continue;
        }
        if (signal.aborted) throw signal.reason ?? err;
        throw toSandboxError(err instanceof RunsAsRoot ? err.cause : err, "starting the sandbox");
      }
    }
  }

  /** Creates the Job; a 409 means a previous attempt of this job (runner restart): replace it. */
  private async createJob(body: V1Job): Promise<V1Job> {
    const namespace = this.cfg.namespace;
    try {
      return await this.ctx.clients.batch.createNamespacedJob({ namespace, body });
    } catch (err) {
      if (apiCode(err) !== CONFLICT) throw err;
      // Background deletion removes the Job at once; its dependents follow via the garbage collector.
      await deleteObject(this.ctx.clients, "Job", namespace, body.metadata?.name ?? "");
      return this.ctx.clients.batch.createNamespacedJob({ namespace, body });
    }
  }

  sweepOrphans(): Promise<number> {
    return sweepOrphans(this.ctx, (jobId) => this.live.has(jobId));
  }

  /** Sweeps now and then every K8S_SWEEP_INTERVAL_SECONDS until close(). */
  startPeriodicSweep(onError: (err: unknown) => void = () => undefined): void {
    if (this.sweepTimer || this.cfg.sweepIntervalSeconds === 0) return;
    this.sweepTimer = setInterval(() => {
      this.sweepOrphans().catch(onError);
    }, this.cfg.sweepIntervalSeconds * 1000);
    this.sweepTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await Promise.all([this.ctx.pods.stop(), this.ctx.jobs.stop()]);
    this.watching = undefined;
  }
}


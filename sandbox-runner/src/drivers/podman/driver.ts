/** The podman SandboxDriver: development and CI runners, and single-host deployments. */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxError, type HostCheck, type Sandbox, type SandboxDriver, type SandboxLimits, type SandboxSpec } from "../types.js";
import { MANAGED_LABEL } from "./container-args.js";
import { isNodeEntrypoint } from "./coverage.js";
import { podman, podmanOk } from "./exec.js";
import { currentHost, describeMissing, hostChecks, type HostEnv } from "./host-check.js";
import { findImageByDigest, type LocalImage } from "./image-local.js";
import { readFileFromImage } from "./image-mount.js";
import { prepareImage, type PullPolicy } from "./prepare-image.js";
import type { ProberBuildOptions } from "./prober-build.js";
import { ProberImage } from "./prober-image.js";
import { PodmanSandbox } from "./sandbox.js";
import { killRecordedStrace, type TraceMode } from "./tracer.js";
import { DEFAULT_ZAP_IMAGE } from "./zap.js";

export interface PodmanDriverOptions {
  limits?: SandboxLimits;
  zapImage?: string;
  /** Directories of OCI layouts / OCI archives to load pinned images from (offline runners). */
  imageSources?: string[];
  /** The registry egress policy for pulls (prepare-image.ts); nothing internal is allowed when absent. */
  pullPolicy?: PullPolicy;
  /** Image the user's script runs in; needs sh and curl. */
  proberImage?: string;
  /** How the runner builds the prober image when it is missing (prepare()); absent: it is never built. */
  proberBuild?: ProberBuildOptions;
  /** Progress of prepare() (the prober image build), for the runner's log. */
  onPrepareProgress?: (message: string) => void;
  /** The host the checks look at (PATH, uid); the runner's own unless a test says otherwise. */
  host?: () => HostEnv;
  /** Where per-job temp dirs are created. */
  workRoot?: string;
  stopGraceSeconds?: number;
  /** Adds vexxy.runner=<id> to everything created and limits sweepOrphans to it. */
  runnerId?: string;
  /** How strace starts (see tracer.ts); "seccomp" unless set. */
  traceMode?: TraceMode;
}

export const DEFAULT_PROBER_IMAGE = "localhost/vexxy-test/prober:latest";

const WORK_PREFIX = "vexxy-sandbox-";

export class PodmanDriver implements SandboxDriver {
  readonly name = "podman" as const;
  private readonly sources: string[];
  private readonly prober: ProberImage;
  private readonly host: () => HostEnv;

  constructor(private readonly options: PodmanDriverOptions = {}) {
    // Accept both comma-split config entries and colon-separated PATH-style lists.
    this.sources = (options.imageSources ?? []).flatMap((s) => s.split(":")).filter((s) => s.startsWith("/"));
    this.host = options.host ?? currentHost;
    this.prober = new ProberImage({
      image: options.proberImage ?? DEFAULT_PROBER_IMAGE,
      host: this.host,
      ...(options.proberBuild ? { build: options.proberBuild } : {}),
      ...(options.onPrepareProgress ? { onProgress: options.onPrepareProgress } : {}),
    });
  }

  /** Looks for the prober image and builds it when it is missing (nothing to do while podman itself is missing). */
  async prepare(): Promise<void> {
    if (hostChecks(this.host()).some((c) => c.status !== "ok")) return;
    await this.prober.prepare();
  }

  readiness(): HostCheck[] {
    const host = hostChecks(this.host());
    const prober: HostCheck = host.every((c) => c.status === "ok")
      ? this.prober.check()
      : { name: "prober image", status: "missing", detail: "not checked: the sandbox driver and tracer come first", onlyForTestScripts: true };
    return [...host, prober];
  }

  async whenReady(needs: { testScript: boolean }, signal: AbortSignal, onHold: () => void): Promise<void> {
    const host = hostChecks(this.host());
    if (host.some((c) => c.status !== "ok")) {
      throw new SandboxError("sandbox_unavailable", `this runner's host cannot run sandboxes. ${describeMissing(host)}`);
    }
    if (needs.testScript) await this.prober.whenReady(signal, onHold);
  }

  async prepareImage(spec: SandboxSpec, signal: AbortSignal): Promise<void> {
    await prepareImage(spec, this.sources, signal, this.options.pullPolicy);
  }

  async start(spec: SandboxSpec, limits: SandboxLimits, signal: AbortSignal): Promise<Sandbox> {
    const image = await this.pinned(spec);
    const config = await imageConfig(image.id);
    const nodeCoverage = spec.codeCoverage && isNodeEntrypoint(config.Entrypoint, config.Cmd);
    const workDir = await mkdtemp(join(this.options.workRoot ?? tmpdir(), `${this.workPrefix()}${spec.jobId}-`));
    const sandbox = new PodmanSandbox(spec, limits, {
      imageId: image.id,
      proberImage: this.options.proberImage ?? DEFAULT_PROBER_IMAGE,
      zapImage: this.options.zapImage ?? DEFAULT_ZAP_IMAGE,
      workDir,
      nodeCoverage,
      stopGraceSeconds: this.options.stopGraceSeconds ?? 5,
      ...(this.options.runnerId ? { runnerId: this.options.runnerId } : {}),
      traceMode: this.options.traceMode ?? "seccomp",
    });
    try {
      await sandbox.launch(signal);
    } catch (e) {
      await sandbox.destroy();
      if (signal.aborted) throw signal.reason;
      if (e instanceof SandboxError) throw e;
      throw new SandboxError("sandbox_start_failed", `starting ${spec.imageRef}@${spec.imageDigest} failed: ${errText(e)}`);
    }
    return sandbox;
  }

  /** Removes every container labelled vexxy.managed=true and stale per-job temp dirs. */
  async sweepOrphans(): Promise<number> {
    const root = this.options.workRoot ?? tmpdir();
    const stale = (await readdir(root).catch(() => [] as string[])).filter((e) => e.startsWith(this.workPrefix()));
    const filters = ["--filter", `label=${MANAGED_LABEL}`];
    if (this.options.runnerId) filters.push("--filter", `label=vexxy.runner=${this.options.runnerId}`);
    const list = async () => (await podmanOk(["ps", "-a", ...filters, "--format", "{{.ID}}"])).split("\n").map((s) => s.trim()).filter(Boolean);
    const ids = await list();
    // A container whose tracer died with the previous runner can time out its first stop (conmon
    // never writes its exit file; podman then marks it exited): a second pass removes it.
    for (let pass = 0, left = ids; left.length && pass < 3; pass++) {
      await podman(["rm", "-f", "-t", "0", ...left]);
      left = await list();
    }
    // Containers first, then their stracers (a live conmon must not lose its tracer), then the dirs.
    for (const entry of stale) {
      for (const sub of await readdir(join(root, entry)).catch(() => [] as string[])) {
        if (sub.startsWith("trace-")) killRecordedStrace(join(root, entry, sub));
      }
      await rm(join(root, entry), { recursive: true, force: true });
    }
    return ids.length;
  }

  async readImageFile(spec: SandboxSpec, path: string): Promise<Buffer | null> {
    const image = await this.pinned(spec);
    return readFileFromImage(image.id, path);
  }

  private workPrefix(): string {
    return this.options.runnerId ? `${WORK_PREFIX}${this.options.runnerId}-` : WORK_PREFIX;
  }

  private async pinned(spec: SandboxSpec): Promise<LocalImage> {
    const image = await findImageByDigest(spec.imageDigest);
    if (!image) {
      throw new SandboxError("image_unavailable", `image ${spec.imageRef}@${spec.imageDigest} is not prepared on this runner`);
    }
    return image;
  }
}

interface ImageConfigJson {
  Config?: { Entrypoint?: string[] | null; Cmd?: string[] | null };
}

async function imageConfig(imageId: string): Promise<{ Entrypoint?: string[] | null; Cmd?: string[] | null }> {
  const out = await podmanOk(["image", "inspect", "--format", "json", imageId]);
  return (JSON.parse(out) as ImageConfigJson[])[0]?.Config ?? {};
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

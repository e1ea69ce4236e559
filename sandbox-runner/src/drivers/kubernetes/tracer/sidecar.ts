/**
 * Tracer (1): a strace sidecar in the target pod. It alone holds SYS_PTRACE; it shares the pod's
 * process namespace and starts before the target (native sidecar: an initContainer with
 * restartPolicy Always). Its trace reaches the driver through its own pod log (see ./dump.ts), which
 * needs no exec permission and no network path from the runner into the sandbox.
 */
import type { V1Container, V1PodSpec } from "@kubernetes/client-node";
import { parseStraceFiles } from "../../../trace/strace.js";
import type { RuntimeTrace } from "../../../trace/types.js";
import type { KubeClients } from "../client.js";
import type { KubernetesConfig } from "../config.js";
import { apiCode } from "../errors.js";
import { followLog } from "../logs.js";
import { TRACER_CONTAINER } from "../names.js";
import type { ImageFilesystemSnapshot } from "../../../image/root-fs.js";
import { decodeTraceDump } from "./dump.js";
import { imageFromSnapshot } from "./image-snapshot.js";
import { SIDECAR_SCRIPT } from "./sidecar-script.js";
import { emptyTrace, type TargetRef, type TraceCollection, type Tracer } from "./types.js";

const TRACE_VOLUME = "trace";

export function tracerContainer(cfg: KubernetesConfig): V1Container {
  return {
    name: TRACER_CONTAINER,
    image: cfg.images.tracer,
    imagePullPolicy: "IfNotPresent",
    restartPolicy: "Always",
    command: ["/bin/sh", "-c", SIDECAR_SCRIPT],
    // Root with exactly one capability: ptrace across uids needs CAP_SYS_PTRACE to be effective.
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      runAsNonRoot: false,
      capabilities: { drop: ["ALL"], add: ["SYS_PTRACE"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    startupProbe: { exec: { command: ["test", "-f", "/trace/ready"] }, periodSeconds: 1, failureThreshold: 60 },
    resources: {
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: cfg.resources.helperCpu, memory: cfg.resources.helperMemory, "ephemeral-storage": cfg.resources.ephemeralStorage },
    },
    volumeMounts: [{ name: TRACE_VOLUME, mountPath: "/trace" }],
  };
}

export class SidecarTracer implements Tracer {
  readonly kind = "sidecar" as const;

  constructor(
    private readonly cfg: KubernetesConfig,
    private readonly clients: KubeClients,
  ) {}

  decorate(pod: V1PodSpec): V1PodSpec {
    return {
      ...pod,
      shareProcessNamespace: true,
      initContainers: [tracerContainer(this.cfg), ...(pod.initContainers ?? [])],
      volumes: [...(pod.volumes ?? []), { name: TRACE_VOLUME, emptyDir: { sizeLimit: this.cfg.resources.ephemeralStorage } }],
    };
  }

  async begin(target: TargetRef): Promise<TraceCollection> {
    const started = Date.now();
    let follow: Awaited<ReturnType<typeof followLog>> | undefined;
    try {
      follow = await followLog(this.clients, target.namespace, target.podName, TRACER_CONTAINER);
    } catch (err) {
      if (apiCode(err) === undefined) throw err;
    }
    const boundMs = (this.cfg.terminationGraceSeconds + 30) * 1000;
    let image: ImageFilesystemSnapshot | null = null;
    return {
      image: () => image,
      finish: async (signal) => {
        // 404: the pod is gone; 400: the sidecar never started. Either way there is no trace.
        if (!follow) return emptyTrace("strace", Date.now() - started);
        const f = follow;
        const timer = setTimeout(() => f.abort(), boundMs);
        const onAbort = () => f.abort();
        signal.addEventListener("abort", onAbort, { once: true });
        try {
          const read = readSidecarLog(await f.text, Date.now() - started);
          image = read.image;
          return read.trace;
        } finally {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
        }
      },
    };
  }
}

/**
 * The trace and the image snapshot the sidecar printed. An unreadable block yields an incomplete,
 * empty trace; the image is null when absent or cut short.
 */
export function readSidecarLog(log: string, fallbackDurationMs: number): { trace: RuntimeTrace; image: ImageFilesystemSnapshot | null } {
  const decoded = decodeTraceDump(log);
  if (!decoded.ok) return { trace: emptyTrace("strace", fallbackDurationMs), image: null };
  const image = imageFromSnapshot(decoded.dump.image);
  const { files, meta } = decoded.dump;
  const fromFirstExec = meta.from_first_exec === "1";
  const complete = meta.complete === "1";
  const durationMs = Number(meta.duration_ms) || fallbackDurationMs;
  // When strace attached to the runtime's init, that pid's events before its first exec are runc's.
  const attached = (meta.attached ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
  const rootPid = fromFirstExec && attached.length === 1 ? attached[0] : undefined;
  return { trace: parseStraceFiles(files, { fromFirstExec, complete, durationMs, ...(rootPid !== undefined ? { rootPid } : {}) }), image };
}

/** The target Job: one pod, run once, by digest, locked down, with the tracer's additions. */
import type { V1Job, V1PodSpec, V1Probe } from "@kubernetes/client-node";
import type { SandboxLimits, SandboxSpec } from "../../types.js";
import type { KubernetesConfig } from "../config.js";
import { labelsFor, objectNames, TARGET_CONTAINER } from "../names.js";
import type { Tracer } from "../tracer/types.js";
import { pinnedImage } from "./image.js";
import { capRequest, cpuQuantity } from "./quantity.js";
import { compact, restrictedContainer } from "./security.js";

export interface TargetJobOptions {
  /** runAsNonRoot on the target; the driver retries without it when kubelet finds the image runs as root. */
  nonRoot: boolean;
}

function readinessProbe(ports: number[]): V1Probe | undefined {
  const first = ports[0];
  if (first === undefined) return undefined;
  return { tcpSocket: { port: first }, periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 1, successThreshold: 1 };
}

export function buildTargetJob(
  spec: SandboxSpec,
  limits: SandboxLimits,
  cfg: KubernetesConfig,
  tracer: Pick<Tracer, "decorate">,
  opts: TargetJobOptions,
): V1Job {
  const names = objectNames(spec.jobId);
  const memoryLimit = String(limits.memoryBytes);
  const cpuLimit = cpuQuantity(limits.cpus);
  const pod: V1PodSpec = {
    restartPolicy: "Never",
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    runtimeClassName: cfg.runtimeClassName,
    terminationGracePeriodSeconds: cfg.terminationGraceSeconds,
    securityContext: {
      runAsNonRoot: opts.nonRoot ? true : undefined,
      seccompProfile: { type: "RuntimeDefault" },
      // A safe sysctl: lets a non-root server bind its low port without NET_BIND_SERVICE.
      sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
    },
    containers: [
      {
        name: TARGET_CONTAINER,
        image: pinnedImage(spec.imageRef, spec.imageDigest),
        imagePullPolicy: "IfNotPresent",
        env: Object.entries(spec.environment).map(([name, value]) => ({ name, value })),
        ports: spec.ports.map((containerPort) => ({ containerPort, protocol: "TCP" })),
        readinessProbe: readinessProbe(spec.ports),
        securityContext: restrictedContainer(opts.nonRoot),
        resources: {
          requests: {
            cpu: capRequest(cfg.resources.cpuRequest, cpuLimit),
            memory: capRequest(cfg.resources.memoryRequest, memoryLimit),
            "ephemeral-storage": cfg.resources.ephemeralStorage,
          },
          limits: { cpu: cpuLimit, memory: memoryLimit, "ephemeral-storage": cfg.resources.ephemeralStorage },
        },
        volumeMounts: cfg.scratchPaths.map((mountPath, i) => ({ name: `scratch-${i}`, mountPath })),
      },
    ],
    volumes: cfg.scratchPaths.map((_, i) => ({ name: `scratch-${i}`, emptyDir: { sizeLimit: cfg.resources.ephemeralStorage } })),
  };
  return compact({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: names.job,
      namespace: cfg.namespace,
      labels: labelsFor(spec.jobId, cfg.runnerId),
      annotations: { "vexxy.dev/image-ref": spec.imageRef.slice(0, 512) },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(spec.timeoutSeconds)),
      ttlSecondsAfterFinished: cfg.ttlAfterFinishedSeconds,
      template: {
        metadata: { labels: labelsFor(spec.jobId, cfg.runnerId, "target") },
        spec: tracer.decorate(pod),
      },
    },
  });
}

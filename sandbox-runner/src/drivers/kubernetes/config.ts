/**
 * Kubernetes driver configuration: read once from the environment at start-up and passed in.
 * Nothing in the driver reads process.env.
 */
import { parseAllowedRegistries } from "@vexxy/contract";
import { z } from "zod";

const digestPinned = z
  .string()
  .regex(/^[^\s@]+@sha256:[a-f0-9]{64}$/, "must be pinned by digest (repo@sha256:…)");
const flag = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a Kubernetes quantity");
const seconds = z.coerce.number().int().min(0);

const KubernetesEnvSchema = z.object({
  K8S_SANDBOX_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63),
  K8S_IN_CLUSTER: flag.default(false),
  /** Outside the cluster: path to a kubeconfig; empty means the client's default lookup. */
  KUBECONFIG: z.string().optional(),
  /** Labels every object this runner creates; sweeps at start remove this id's leftovers. */
  K8S_RUNNER_ID: z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/).max(63),
  K8S_TRACER: z.enum(["sidecar", "kubescape"]).default("sidecar"),
  K8S_TRACER_IMAGE: digestPinned,
  K8S_PROBER_IMAGE: digestPinned,
  K8S_ZAP_IMAGE: digestPinned,
  K8S_RUNTIME_CLASS: z.string().max(253).optional(),
  K8S_NON_ROOT: z.enum(["preferred", "required"]).default("preferred"),
  K8S_CPU_REQUEST: quantity.default("250m"),
  K8S_MEMORY_REQUEST: quantity.default("256Mi"),
  K8S_EPHEMERAL_STORAGE: quantity.default("1Gi"),
  K8S_SCRATCH_PATHS: z.string().default("/tmp,/var/tmp,/run,/var/run,/var/cache"),
  K8S_HELPER_CPU: quantity.default("500m"),
  K8S_HELPER_MEMORY: quantity.default("512Mi"),
  K8S_ZAP_CPU: quantity.default("1"),
  K8S_ZAP_MEMORY: quantity.default("2Gi"),
  K8S_ZAP_TIMEOUT_SECONDS: seconds.default(900),
  K8S_TTL_AFTER_FINISHED_SECONDS: seconds.default(600),
  K8S_TERMINATION_GRACE_SECONDS: seconds.default(15),
  K8S_UNSCHEDULABLE_GRACE_SECONDS: seconds.default(120),
  K8S_KUBESCAPE_PROFILE_WAIT_SECONDS: seconds.default(60),
  K8S_SWEEP_INTERVAL_SECONDS: seconds.default(300),
  /** Jobs this much past their own deadline are orphans whoever created them. */
  K8S_WATCH_RESTART_MS: seconds.default(1000),
  RUNNER_ALLOWED_REGISTRIES: z.string().optional(),
});

export interface KubernetesConfig {
  namespace: string;
  inCluster: boolean;
  kubeconfigPath?: string;
  runnerId: string;
  tracer: "sidecar" | "kubescape";
  images: { tracer: string; prober: string; zap: string };
  runtimeClassName?: string;
  nonRoot: "preferred" | "required";
  resources: {
    cpuRequest: string;
    memoryRequest: string;
    ephemeralStorage: string;
    helperCpu: string;
    helperMemory: string;
    zapCpu: string;
    zapMemory: string;
  };
  scratchPaths: string[];
  zapTimeoutSeconds: number;
  ttlAfterFinishedSeconds: number;
  terminationGraceSeconds: number;
  unschedulableGraceSeconds: number;
  kubescapeProfileWaitSeconds: number;
  sweepIntervalSeconds: number;
  watchRestartMs: number;
  /** Registries a job may name although the egress policy refuses them (normalized host:port). */
  allowedRegistries: Set<string>;
}

/** Validates the environment once; throws a ZodError naming every bad variable. */
export function kubernetesConfigFromEnv(env: Record<string, string | undefined>): KubernetesConfig {
  const e = KubernetesEnvSchema.parse(env);
  return {
    namespace: e.K8S_SANDBOX_NAMESPACE,
    inCluster: e.K8S_IN_CLUSTER,
    kubeconfigPath: e.KUBECONFIG || undefined,
    runnerId: e.K8S_RUNNER_ID,
    tracer: e.K8S_TRACER,
    images: { tracer: e.K8S_TRACER_IMAGE, prober: e.K8S_PROBER_IMAGE, zap: e.K8S_ZAP_IMAGE },
    runtimeClassName: e.K8S_RUNTIME_CLASS || undefined,
    nonRoot: e.K8S_NON_ROOT,
    resources: {
      cpuRequest: e.K8S_CPU_REQUEST,
      memoryRequest: e.K8S_MEMORY_REQUEST,
      ephemeralStorage: e.K8S_EPHEMERAL_STORAGE,
      helperCpu: e.K8S_HELPER_CPU,
      helperMemory: e.K8S_HELPER_MEMORY,
      zapCpu: e.K8S_ZAP_CPU,
      zapMemory: e.K8S_ZAP_MEMORY,
    },
    scratchPaths: e.K8S_SCRATCH_PATHS.split(",").map((p) => p.trim()).filter((p) => p.startsWith("/")),
    zapTimeoutSeconds: e.K8S_ZAP_TIMEOUT_SECONDS,
    ttlAfterFinishedSeconds: e.K8S_TTL_AFTER_FINISHED_SECONDS,
    terminationGraceSeconds: e.K8S_TERMINATION_GRACE_SECONDS,
    unschedulableGraceSeconds: e.K8S_UNSCHEDULABLE_GRACE_SECONDS,
    kubescapeProfileWaitSeconds: e.K8S_KUBESCAPE_PROFILE_WAIT_SECONDS,
    sweepIntervalSeconds: e.K8S_SWEEP_INTERVAL_SECONDS,
    watchRestartMs: e.K8S_WATCH_RESTART_MS,
    allowedRegistries: parseAllowedRegistries(e.RUNNER_ALLOWED_REGISTRIES),
  };
}

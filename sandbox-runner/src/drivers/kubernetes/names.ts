/** Labels and object names. Every object a sandbox owns carries MANAGED_BY, JOB_ID and RUNNER. */

export const LABEL = {
  managedBy: "app.kubernetes.io/managed-by",
  jobId: "vexxy.dev/job-id",
  role: "vexxy.dev/role",
  runner: "vexxy.dev/runner",
} as const;

const MANAGED_BY = "vexxy-sandbox-runner";

export type PodRole = "target" | "prober" | "zap";

/** Container names inside the target pod. */
export const TARGET_CONTAINER = "target";
export const TRACER_CONTAINER = "tracer";

/** Selector for everything any runner created in the sandbox namespace. */
export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

export function labelsFor(jobId: string, runnerId: string, role?: PodRole): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.jobId]: jobId,
    [LABEL.runner]: runnerId,
  };
  if (role) labels[LABEL.role] = role;
  return labels;
}

/** A DNS-1035 label: a Service name must start with a letter, so every name starts "vx-". */
export function objectNames(jobId: string) {
  const base = `vx-${jobId.toLowerCase()}`;
  return {
    job: base,
    service: base,
    targetPolicy: `${base}-target`,
    clientPolicy: `${base}-clients`,
    zapPlan: `${base}-zap`,
    zapPod: `${base}-zap`,
    script: (n: number) => `${base}-script-${n}`,
    prober: (n: number) => `${base}-probe-${n}`,
  };
}

/**
 * Orphan sweep, at runner start and periodically. An orphan is
 *  - a Job labelled with this runner's id that this process does not run (a previous incarnation);
 *  - any runner's Job past its own deadline plus K8S_ORPHAN_GRACE_SECONDS (nobody is tracking it);
 *  - a labelled Pod, Service, ConfigMap or NetworkPolicy whose owning Job no longer exists.
 * Dependents are listed before Jobs, so a Job created in between is never mistaken for missing.
 */
import type { KubernetesObject, V1Job } from "@kubernetes/client-node";
import type { DriverContext } from "./context.js";
import { LABEL, MANAGED_SELECTOR } from "./names.js";
import { deleteObject, type Kind } from "./objects.js";

function createdMs(obj: KubernetesObject): number {
  const t = obj.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : Date.now();
}

function isOrphanJob(job: V1Job, runnerId: string, isLive: (jobId: string) => boolean, graceSeconds: number, now: number): boolean {
  const labels = job.metadata?.labels ?? {};
  const jobId = labels[LABEL.jobId] ?? "";
  if (isLive(jobId) && labels[LABEL.runner] === runnerId) return false;
  if (labels[LABEL.runner] === runnerId) return true;
  const deadline = (job.spec?.activeDeadlineSeconds ?? 0) + graceSeconds;
  return createdMs(job) + deadline * 1000 < now;
}

export async function sweepOrphans(ctx: DriverContext, isLive: (jobId: string) => boolean): Promise<number> {
  const { clients, cfg } = ctx;
  const namespace = cfg.namespace;
  const labelSelector = MANAGED_SELECTOR;
  const dependents: Array<[Kind, KubernetesObject[]]> = [
    ["Pod", (await clients.core.listNamespacedPod({ namespace, labelSelector })).items],
    ["Service", (await clients.core.listNamespacedService({ namespace, labelSelector })).items],
    ["ConfigMap", (await clients.core.listNamespacedConfigMap({ namespace, labelSelector })).items],
    ["NetworkPolicy", (await clients.net.listNamespacedNetworkPolicy({ namespace, labelSelector })).items],
  ];
  const jobs = (await clients.batch.listNamespacedJob({ namespace, labelSelector })).items;
  const now = Date.now();
  const remaining = new Set<string>();
  let removed = 0;
  for (const job of jobs) {
    if (isOrphanJob(job, cfg.runnerId, isLive, cfg.orphanGraceSeconds, now)) {
      if (await deleteObject(clients, "Job", namespace, job.metadata?.name ?? "")) removed++;
    } else if (job.metadata?.uid) {
      remaining.add(job.metadata.uid);
    }
  }
  for (const [kind, items] of dependents) {
    for (const obj of items) {
      const owned = obj.metadata?.ownerReferences?.some((r) => r.kind === "Job" && remaining.has(r.uid));
      if (owned) continue;
      if (await deleteObject(clients, kind, namespace, obj.metadata?.name ?? "", 0)) removed++;
    }
  }
  return removed;
}

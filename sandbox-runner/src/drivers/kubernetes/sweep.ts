/**
 * Orphan sweep, at runner start and periodically. It touches only objects labelled with this
 * runner's id (K8S_RUNNER_ID), never another runner's. An orphan is
 *  - a Job of this runner that this process does not run (a previous incarnation);
 *  - a Pod, Service, ConfigMap or NetworkPolicy of this runner whose owning Job no longer exists.
 * Dependents are listed before Jobs, so a Job created in between is never mistaken for missing.
 * A runner that never comes back (a replaced pod with another name) leaves Jobs that Kubernetes
 * itself ends and removes: each has an activeDeadlineSeconds and a ttlSecondsAfterFinished, and its
 * dependents are garbage-collected through their ownerReferences.
 */
import type { KubernetesObject, V1Job } from "@kubernetes/client-node";
import type { DriverContext } from "./context.js";
import { LABEL, MANAGED_SELECTOR } from "./names.js";
import { deleteObject, type Kind } from "./objects.js";

function isOrphanJob(job: V1Job, isLive: (jobId: string) => boolean): boolean {
  return !isLive(job.metadata?.labels?.[LABEL.jobId] ?? "");
}

export async function sweepOrphans(ctx: DriverContext, isLive: (jobId: string) => boolean): Promise<number> {
  const { clients, cfg } = ctx;
  const namespace = cfg.namespace;
  const labelSelector = `${MANAGED_SELECTOR},${LABEL.runner}=${cfg.runnerId}`;
  const dependents: Array<[Kind, KubernetesObject[]]> = [
    ["Pod", (await clients.core.listNamespacedPod({ namespace, labelSelector })).items],
    ["Service", (await clients.core.listNamespacedService({ namespace, labelSelector })).items],
    ["ConfigMap", (await clients.core.listNamespacedConfigMap({ namespace, labelSelector })).items],
    ["NetworkPolicy", (await clients.net.listNamespacedNetworkPolicy({ namespace, labelSelector })).items],
  ];
  const jobs = (await clients.batch.listNamespacedJob({ namespace, labelSelector })).items;
  const remaining = new Set<string>();
  let removed = 0;
  for (const job of jobs) {
    if (isOrphanJob(job, isLive)) {
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

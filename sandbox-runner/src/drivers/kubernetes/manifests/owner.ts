/** Every per-job object is owned by the target Job, so deleting the Job (Background) deletes them all. */
import type { V1Job, V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";

export interface OwnerJob {
  name: string;
  uid: string;
}

export function ownerOf(job: V1Job): OwnerJob {
  const name = job.metadata?.name;
  const uid = job.metadata?.uid;
  if (!name || !uid) throw new Error("the API server returned a Job without name or uid");
  return { name, uid };
}

function ownerReference(owner: OwnerJob): V1OwnerReference {
  // Not blockOwnerDeletion: that would need update on jobs/finalizers, which the Role does not grant.
  return { apiVersion: "batch/v1", kind: "Job", name: owner.name, uid: owner.uid, controller: false };
}

export function ownedMeta(name: string, namespace: string, labels: Record<string, string>, owner: OwnerJob): V1ObjectMeta {
  return { name, namespace, labels, ownerReferences: [ownerReference(owner)] };
}

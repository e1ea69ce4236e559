/** Create/delete with the API's conflict and not-found semantics, in one place. */
import type { V1ConfigMap, V1NetworkPolicy, V1Pod, V1Service } from "@kubernetes/client-node";
import type { KubeClients } from "./client.js";
import { apiCode, CONFLICT, ignoreNotFound } from "./errors.js";

export type Kind = "Pod" | "Service" | "ConfigMap" | "NetworkPolicy";
type Body = V1Pod | V1Service | V1ConfigMap | V1NetworkPolicy;

/** Deletion that cascades to owned objects; Jobs default to orphaning their pods otherwise. */
const CASCADE = "Background";

async function createObject<T extends Body>(clients: KubeClients, kind: Kind, namespace: string, body: T): Promise<T> {
  switch (kind) {
    case "Pod":
      return (await clients.core.createNamespacedPod({ namespace, body: body as V1Pod })) as T;
    case "Service":
      return (await clients.core.createNamespacedService({ namespace, body: body as V1Service })) as T;
    case "ConfigMap":
      return (await clients.core.createNamespacedConfigMap({ namespace, body: body as V1ConfigMap })) as T;
    case "NetworkPolicy":
      return (await clients.net.createNamespacedNetworkPolicy({ namespace, body: body as V1NetworkPolicy })) as T;
  }
}

/** Deletes one object; true when it existed. */
export async function deleteObject(clients: KubeClients, kind: Kind | "Job", namespace: string, name: string, gracePeriodSeconds?: number): Promise<boolean> {
  const params = { name, namespace, propagationPolicy: CASCADE, gracePeriodSeconds };
  const done = await ignoreNotFound(async () => {
    switch (kind) {
      case "Job":
        return clients.batch.deleteNamespacedJob(params);
      case "Pod":
        return clients.core.deleteNamespacedPod(params);
      case "Service":
        return clients.core.deleteNamespacedService(params);
      case "ConfigMap":
        return clients.core.deleteNamespacedConfigMap(params);
      case "NetworkPolicy":
        return clients.net.deleteNamespacedNetworkPolicy(params);
    }
  });
  return done !== undefined;
}

/**
 * Creates an object whose name is derived from the job id. A 409 means a previous attempt of the
 * same job left it behind (its owner is being garbage-collected): replace it, once.
 */
export async function createReplacing<T extends Body>(clients: KubeClients, kind: Kind, namespace: string, body: T): Promise<T> {
  try {
    return await createObject(clients, kind, namespace, body);
  } catch (err) {
    if (apiCode(err) !== CONFLICT) throw err;
    await deleteObject(clients, kind, namespace, body.metadata?.name ?? "", 0);
    return createObject(clients, kind, namespace, body);
  }
}

/** Validation against the official Kubernetes JSON schemas (kubernetes-models), on the wire format. */
// The serializer the generated API clients use for request bodies (not re-exported by the package index).
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { ValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import { ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { RuntimeClass } from "kubernetes-models/node.k8s.io/v1/RuntimeClass";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

type Model = new (data: any) => { validate(): void };

const MODELS: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/Pod": Pod,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "node.k8s.io/v1/RuntimeClass": RuntimeClass,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": ValidatingAdmissionPolicy,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": ValidatingAdmissionPolicyBinding,
};

/** Throws unless the object is valid for its apiVersion/kind; unknown kinds throw too. */
export function validateObject(obj: { apiVersion?: string; kind?: string }): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const M = MODELS[key];
  if (!M) throw new Error(`no schema for ${key}`);
  new M(obj).validate();
}

/** What the client sends for a client-node model object (e.g. `_from` becomes `from`). */
export function wire<T extends { apiVersion?: string; kind?: string }>(obj: T, type: string): Record<string, unknown> {
  return ObjectSerializer.serialize(obj, type, "") as Record<string, unknown>;
}

/** Fields the client's serializer would drop because the model does not know them, as paths. */
export function droppedFields(original: unknown, sent: unknown, path = ""): string[] {
  if (Array.isArray(original)) {
    return original.flatMap((v, i) => droppedFields(v, (sent as unknown[] | undefined)?.[i], `${path}[${i}]`));
  }
  if (original && typeof original === "object" && !(original instanceof Date)) {
    const s = (sent ?? {}) as Record<string, unknown>;
    return Object.entries(original).flatMap(([k, v]) => {
      if (v === undefined) return [];
      const wireKey = k === "_from" ? "from" : k;
      if (!(wireKey in s)) return [`${path}.${k}`];
      return droppedFields(v, s[wireKey], `${path}.${k}`);
    });
  }
  return [];
}

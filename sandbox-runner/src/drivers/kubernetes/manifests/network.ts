/**
 * Network isolation, on top of the namespace's default-deny policy (deploy/kubernetes):
 *  - the target: no egress at all; ingress only from this job's prober and ZAP pods, on its ports;
 *  - the prober/ZAP pods: egress only to this job's target on its ports; no ingress.
 * Helpers reach the target by the Service's cluster IP, so nobody needs DNS.
 * (The client models spell the ingress peer list `_from`; the serializer sends `from`.)
 */
import type { V1NetworkPolicy, V1NetworkPolicyPort, V1Service } from "@kubernetes/client-node";
import type { KubernetesConfig } from "../config.js";
import { LABEL, labelsFor, objectNames } from "../names.js";
import { ownedMeta, type OwnerJob } from "./owner.js";

function tcpPorts(ports: number[]): V1NetworkPolicyPort[] {
  return ports.map((port) => ({ protocol: "TCP", port }));
}

export function buildNetworkPolicies(jobId: string, ports: number[], cfg: KubernetesConfig, owner: OwnerJob): V1NetworkPolicy[] {
  const names = objectNames(jobId);
  const labels = labelsFor(jobId, cfg.runnerId);
  const target = { matchLabels: { [LABEL.jobId]: jobId, [LABEL.role]: "target" } };
  const clients = {
    matchLabels: { [LABEL.jobId]: jobId },
    matchExpressions: [{ key: LABEL.role, operator: "In", values: ["prober", "zap"] }],
  };
  const targetPolicy: V1NetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMeta(names.targetPolicy, cfg.namespace, labels, owner),
    spec: {
      podSelector: target,
      policyTypes: ["Ingress", "Egress"],
      ingress: ports.length ? [{ _from: [{ podSelector: clients }], ports: tcpPorts(ports) }] : [],
      egress: [],
    },
  };
  const clientPolicy: V1NetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: ownedMeta(names.clientPolicy, cfg.namespace, labels, owner),
    spec: {
      podSelector: clients,
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: ports.length ? [{ to: [{ podSelector: target }], ports: tcpPorts(ports) }] : [],
    },
  };
  return [targetPolicy, clientPolicy];
}

/** A ClusterIP Service for the target's ports; null when the image exposes none. */
export function buildService(jobId: string, ports: number[], cfg: KubernetesConfig, owner: OwnerJob): V1Service | null {
  if (ports.length === 0) return null;
  const names = objectNames(jobId);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMeta(names.service, cfg.namespace, labelsFor(jobId, cfg.runnerId), owner),
    spec: {
      type: "ClusterIP",
      selector: { [LABEL.jobId]: jobId, [LABEL.role]: "target" },
      ports: ports.map((port) => ({ name: `tcp-${port}`, protocol: "TCP", port, targetPort: port })),
    },
  };
}

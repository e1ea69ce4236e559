/** The resources the fake serves, with the official schema validator for each built-in kind. */
import { Job } from "kubernetes-models/batch/v1/Job";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { Service } from "kubernetes-models/v1/Service";

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  /** Validates a create body against the Kubernetes JSON schema; throws with the violations. */
  validate?: (body: unknown) => void;
  /** Default deletion propagation when the request names none. */
  defaultPropagation: "Background" | "Orphan";
}

const v = (M: new (data: any) => { validate(): void }) => (body: unknown) => new M(body).validate();

export const RESOURCES: ResourceInfo[] = [
  { group: "", version: "v1", resource: "pods", kind: "Pod", validate: v(Pod), defaultPropagation: "Background" },
  { group: "", version: "v1", resource: "services", kind: "Service", validate: v(Service), defaultPropagation: "Background" },
  { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", validate: v(ConfigMap), defaultPropagation: "Background" },
  // batch/v1 Jobs orphan their pods unless the request asks for cascading deletion.
  { group: "batch", version: "v1", resource: "jobs", kind: "Job", validate: v(Job), defaultPropagation: "Orphan" },
  {
    group: "networking.k8s.io",
    version: "v1",
    resource: "networkpolicies",
    kind: "NetworkPolicy",
    validate: v(NetworkPolicy),
    defaultPropagation: "Background",
  },
];

export const KUBESCAPE_RESOURCES: ResourceInfo[] = [
  { group: "spdx.softwarecomposition.kubescape.io", version: "v1beta1", resource: "containerprofiles", kind: "ContainerProfile", defaultPropagation: "Background" },
  { group: "spdx.softwarecomposition.kubescape.io", version: "v1beta1", resource: "applicationprofiles", kind: "ApplicationProfile", defaultPropagation: "Background" },
];

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Name and label rules the schemas do not carry (apimachinery validation). */
export function metadataCauses(kind: string, meta: any): { field: string; message: string }[] {
  const causes: { field: string; message: string }[] = [];
  const name: unknown = meta?.name;
  if (typeof name !== "string" || !name) causes.push({ field: "metadata.name", message: "Required value" });
  else if (kind === "Service" && (!DNS1035_LABEL.test(name) || name.length > 63)) {
    causes.push({ field: "metadata.name", message: "a DNS-1035 label must consist of lower case alphanumeric characters or '-'" });
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({ field: "metadata.name", message: "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'" });
  }
  for (const [k, val] of Object.entries((meta?.labels ?? {}) as Record<string, unknown>)) {
    if (typeof val !== "string" || val.length > 63 || !LABEL_VALUE.test(val)) {
      causes.push({ field: `metadata.labels.${k}`, message: "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'" });
    }
  }
  return causes;
}

/** Security settings shared by every container the driver creates. */
import type { V1Capabilities, V1PodSecurityContext, V1SecurityContext } from "@kubernetes/client-node";

const DROP_ALL: V1Capabilities = { drop: ["ALL"] };

/** Restricted container context: no escalation, no capabilities, read-only root, RuntimeDefault seccomp. */
export function restrictedContainer(nonRoot: boolean): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    capabilities: DROP_ALL,
    readOnlyRootFilesystem: true,
    privileged: false,
    runAsNonRoot: nonRoot ? true : undefined,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Pod-level context for helper pods (prober, ZAP), which always run as a non-root uid. */
export function helperPodSecurity(uid: number): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Strips undefined values so built manifests compare and serialise cleanly. */
export function compact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

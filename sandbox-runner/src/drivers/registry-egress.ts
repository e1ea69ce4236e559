/**
 * The registry egress policy (@vexxy/contract) as a driver applies it before a pull: the registry's
 * name, then every address it resolves to, unless the operator allowed it (RUNNER_ALLOWED_REGISTRIES).
 * The podman driver additionally runs the pull itself through egress/proxy.ts, which checks every
 * connection the pull makes.
 */
import { checkRegistryName, registryOfReference } from "@vexxy/contract";
import { resolveAllowed, type Lookup } from "../egress/proxy.js";
import { SandboxError } from "./types.js";

export async function checkPullEgress(imageRef: string, allowed: Set<string>, lookup?: Lookup): Promise<void> {
  const registry = registryOfReference(imageRef);
  const named = checkRegistryName(registry, allowed);
  if (!named.ok) throw registryNotAllowed(registry);
  const resolved = await resolveAllowed(named.host, named.port, allowed, lookup);
  // A name this runner cannot resolve is left to the pull, which then fails as unreachable.
  if ("reason" in resolved && resolved.reason !== "unresolvable") throw registryNotAllowed(registry);
}

export function registryNotAllowed(registry: string): SandboxError {
  return new SandboxError("image_unavailable", `registry ${registry} is not allowed: it is, or resolves to, an internal address (see RUNNER_ALLOWED_REGISTRIES)`);
}

type PullFailure = "not_found" | "unauthorized" | "digest_mismatch" | "unreachable" | "timeout";

const PULL_FAILURES: Record<PullFailure, string> = {
  not_found: "not found (the registry has no such repository or digest)",
  unauthorized: "unauthorized (the registry requires credentials this runner does not have)",
  digest_mismatch: "the registry served content that does not match the pinned digest",
  unreachable: "registry unreachable",
  timeout: "the pull timed out",
};

/**
 * The puller's error text (podman's containers/image, or the kubelet's) → one short reason. The
 * text itself may describe internal network paths (a port oracle), so it never reaches the user;
 * unknown text counts as unreachable.
 */
export function classifyPullFailure(text: string, timedOut = false): PullFailure {
  if (timedOut) return "timeout";
  const t = text.toLowerCase();
  if (/digest.*(mismatch|did not match|does not match)|manifest digest/.test(t)) return "digest_mismatch";
  if (/manifest unknown|name unknown|not found|no such image|404/.test(t)) return "not_found";
  if (/unauthorized|authentication required|access denied|denied:|forbidden|401|403/.test(t)) return "unauthorized";
  return "unreachable";
}

/** The job's error for a failed pull of `pullRef` (repository@digest); `via` names who pulled, e.g. the kubelet's reason. */
export function pullFailure(pullRef: string, failure: PullFailure, via = ""): SandboxError {
  const note = via ? ` (${via})` : "";
  if (failure === "digest_mismatch") return new SandboxError("digest_mismatch", `image ${pullRef}: ${PULL_FAILURES[failure]}${note}`);
  return new SandboxError("image_unavailable", `image ${pullRef} could not be pulled: ${PULL_FAILURES[failure]}${note}`);
}

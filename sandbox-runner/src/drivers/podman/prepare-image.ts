/**
 * prepareImage: the image is used pinned by digest — from local storage, else an offline source,
 * else `podman pull repo@digest` under the registry egress policy (egress/). Whatever route, the
 * digest podman reports is checked. A failed pull is told to the user as a short classified reason
 * (not found, unauthorized, digest mismatch, unreachable, not allowed); podman's own words, which
 * may describe internal network paths, go to the runner's log only.
 */
import { rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxError, type SandboxSpec } from "../types.js";
import { podman } from "./exec.js";
import { checkRegistryName, registryOfReference } from "@vexxy/contract";
import { proxyEnv, startEgressProxy, type Lookup } from "../../egress/proxy.js";
import { classifyPullFailure, pullFailure, registryNotAllowed } from "../registry-egress.js";
import { findImageByDigest, findImageByRef, normalizeRef, repository, type LocalImage } from "./image-local.js";
import { digestsForRefInSources, findInSources, transportRef } from "./image-sources.js";

const PULL_TIMEOUT_MS = 10 * 60_000;

export interface PullPolicy {
  allowedRegistries: Set<string>;
  /** Name resolution for the egress proxy (tests stand in for DNS). */
  lookup?: Lookup;
  /** Where podman's raw error output goes (the runner's log). */
  onPullError?: (detail: { imageRef: string; stderr: string }) => void;
}

export async function prepareImage(spec: SandboxSpec, sources: string[], signal: AbortSignal, policy: PullPolicy = { allowedRegistries: new Set() }): Promise<LocalImage> {
  const local = await findImageByDigest(spec.imageDigest, signal);
  if (local) return local;

  const source = await findInSources(sources, spec.imageDigest);
  if (source) {
    // podman names an oci: pull after its path, which must then be a valid (lowercase) repository
    // name; a symlink with such a name stands in for whatever the directory is called.
    const alias = join(tmpdir(), `vexxy-src-${spec.imageDigest.slice(7, 23)}`);
    await rm(alias, { force: true });
    await symlink(source.where, alias);
    const r = await podman(["pull", "-q", transportRef(source, alias)], { signal, timeoutMs: PULL_TIMEOUT_MS }).finally(
      () => rm(alias, { force: true }),
    );
    if (r.code !== 0) {
      throw new SandboxError("image_unavailable", `loading ${spec.imageRef} from ${source.where} failed: ${r.stderr.trim()}`);
    }
    return verified(spec);
  }

  // Fully qualified, so podman never consults search registries for a short name.
  const pullRef = `${repository(normalizeRef(spec.imageRef))}@${spec.imageDigest}`;
  const registry = registryOfReference(pullRef);
  const failure = await pull(pullRef, registry, spec, signal, policy);
  if (failure === null) return verified(spec);

  // Not obtainable by digest. If the name resolves to something else here, say so: that is a mismatch.
  const byRef = await findImageByRef(spec.imageRef, signal);
  if (byRef && byRef.digest && byRef.digest !== spec.imageDigest) throw mismatch(spec, byRef.digest);
  const tag = spec.imageRef.split("@")[0]!.split("/").pop()!.split(":")[1] ?? "latest";
  const inSources = (await digestsForRefInSources(sources, tag)).filter((d) => d !== spec.imageDigest);
  if (inSources.length > 0) throw mismatch(spec, inSources[0]!);
  throw failure;
}

/**
 * `podman pull` under the egress policy: refused before any connection when the registry's name or
 * literal address is internal, else run through a proxy of its own that checks every address the
 * pull connects to. Null when pulled; else the classified failure.
 */
async function pull(pullRef: string, registry: string, spec: SandboxSpec, signal: AbortSignal, policy: PullPolicy): Promise<SandboxError | null> {
  if (!checkRegistryName(registry, policy.allowedRegistries).ok) return registryNotAllowed(registry);
  const proxy = await startEgressProxy({ allowed: policy.allowedRegistries, ...(policy.lookup ? { lookup: policy.lookup } : {}) });
  const pulled = await podman(["pull", "-q", pullRef], { signal, timeoutMs: PULL_TIMEOUT_MS, env: proxyEnv(proxy) }).finally(() => proxy.close());
  if (signal.aborted) throw signal.reason;
  if (pulled.code === 0) return null;
  policy.onPullError?.({ imageRef: spec.imageRef, stderr: pulled.stderr.trim().slice(0, 2000) });
  // A name that does not resolve is unreachable, not refused.
  const refused = proxy.refusals.find((r) => r.reason !== "unresolvable");
  if (refused) return registryNotAllowed(refused.host);
  return pullFailure(pullRef, classifyPullFailure(pulled.stderr, pulled.timedOut));
}

async function verified(spec: SandboxSpec): Promise<LocalImage> {
  const image = await findImageByDigest(spec.imageDigest);
  if (image) return image;
  const byRef = await findImageByRef(spec.imageRef);
  throw mismatch(spec, byRef?.digest || "an unknown digest");
}

function mismatch(spec: SandboxSpec, actual: string): SandboxError {
  return new SandboxError(
    "digest_mismatch",
    `image ${spec.imageRef} resolved to ${actual} but the job pinned ${spec.imageDigest}`,
  );
}

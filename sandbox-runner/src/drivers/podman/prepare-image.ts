/**
 * prepareImage: the image is used pinned by digest — from local storage, else an offline source,
 * else `podman pull repo@digest`. Whatever route, the digest podman reports is checked.
 */
import { rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxError, type SandboxSpec } from "../types.js";
import { podman } from "./exec.js";
import { findImageByDigest, findImageByRef, repository, type LocalImage } from "./image-local.js";
import { digestsForRefInSources, findInSources, transportRef } from "./image-sources.js";

const PULL_TIMEOUT_MS = 10 * 60_000;

export async function prepareImage(spec: SandboxSpec, sources: string[], signal: AbortSignal): Promise<LocalImage> {
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

  const pullRef = `${repository(spec.imageRef)}@${spec.imageDigest}`;
  const pulled = await podman(["pull", "-q", pullRef], { signal, timeoutMs: PULL_TIMEOUT_MS });
  if (signal.aborted) throw signal.reason;
  if (pulled.code === 0) return verified(spec);

  // Not obtainable by digest. If the name resolves to something else, say so: that is a mismatch.
  const byRef = await findImageByRef(spec.imageRef, signal);
  if (byRef && byRef.digest && byRef.digest !== spec.imageDigest) throw mismatch(spec, byRef.digest);
  const tag = spec.imageRef.split("@")[0]!.split("/").pop()!.split(":")[1] ?? "latest";
  const inSources = (await digestsForRefInSources(sources, tag)).filter((d) => d !== spec.imageDigest);
  if (inSources.length > 0) throw mismatch(spec, inSources[0]!);
  throw new SandboxError(
    "image_unavailable",
    `image ${pullRef} is not in local storage or RUNNER_IMAGE_SOURCES and could not be pulled: ${firstLine(pulled.stderr)}`,
  );
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

function firstLine(text: string): string {
  return text.trim().split("\n").filter(Boolean).pop()?.slice(0, 500) ?? "no error output";
}

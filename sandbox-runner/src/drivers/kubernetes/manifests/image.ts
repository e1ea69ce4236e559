/** Image references: the sandbox always runs `repository@sha256:…`, never a tag. */
import { SandboxError } from "../../types.js";

/** Splits "registry:5000/ns/name:tag@sha256:…" into repository, tag and digest. */
export function parseImageRef(ref: string): { repository: string; tag?: string; digest?: string } {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: rest, tag, digest };
}

/** The digest-pinned reference the kubelet pulls; throws digest_mismatch when the ref names another digest. */
export function pinnedImage(imageRef: string, imageDigest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(imageDigest)) {
    throw new SandboxError("digest_mismatch", `image digest ${JSON.stringify(imageDigest)} is not a sha256 digest`);
  }
  const { repository, digest } = parseImageRef(imageRef);
  if (!repository) throw new SandboxError("image_unavailable", `image reference ${JSON.stringify(imageRef)} has no repository`);
  if (digest && digest !== imageDigest) {
    throw new SandboxError("digest_mismatch", `image reference pins ${digest} but the job expects ${imageDigest}`);
  }
  return `${repository}@${imageDigest}`;
}

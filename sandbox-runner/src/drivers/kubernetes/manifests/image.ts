/** Image references: the sandbox always runs `registry/repository@sha256:…`, never a tag. */
import { SandboxError } from "../../types.js";
import { OciReferenceError, parseOciReference } from "../../../vex/oci-ref.js";

/** The digest-pinned, fully qualified reference the kubelet pulls; throws digest_mismatch when the ref names another digest. */
export function pinnedImage(imageRef: string, imageDigest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(imageDigest)) {
    throw new SandboxError("digest_mismatch", `image digest ${JSON.stringify(imageDigest)} is not a sha256 digest`);
  }
  let ref;
  try {
    ref = parseOciReference(imageRef);
  } catch (err) {
    if (err instanceof OciReferenceError) throw new SandboxError("image_unavailable", err.message);
    throw err;
  }
  if (ref.digest && ref.digest !== imageDigest) {
    throw new SandboxError("digest_mismatch", `image reference pins ${ref.digest} but the job expects ${imageDigest}`);
  }
  return `${ref.registry}/${ref.repository}@${imageDigest}`;
}

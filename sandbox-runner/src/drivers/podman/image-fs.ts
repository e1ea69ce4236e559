/**
 * The image's filesystem as the inventory and the engine need it (package databases, every path,
 * every symlink, every executable's loader or #! line), read through `podman image mount`.
 */
import { readImageRoot, type ImageFilesystemSnapshot } from "../../image/root-fs.js";
import { findImageByDigest } from "./image-local.js";
import { withImageMount } from "./image-mount.js";

export type { ImageFilesystemSnapshot };

export async function collectImageFilesystem(imageDigestOrId: string): Promise<ImageFilesystemSnapshot> {
  const byDigest = imageDigestOrId.startsWith("sha256:") ? await findImageByDigest(imageDigestOrId) : null;
  const imageId = byDigest?.id ?? imageDigestOrId.replace(/^sha256:/, "");
  return withImageMount(imageId, (root) => readImageRoot(root));
}

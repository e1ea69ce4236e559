/**
 * The image's filesystem as the inventory and the engine need it (package databases, every path,
 * every symlink, every executable's loader or #! line), read through `podman image mount`.
 */
import { readImageRoot, type ImageFilesystemSnapshot } from "../../image/root-fs.js";
import type { SnapshotCache } from "../../image/snapshot-cache.js";
import { findImageByDigest } from "./image-local.js";
import { withImageMount } from "./image-mount.js";

export type { ImageFilesystemSnapshot };

/** Digest → image ID, as podman resolved it (an image ID is the hash of its config: it never changes). */
const idsByDigest = new Map<string, string>();

/** Read once per image ID when a cache is given (images are immutable), else every time. */
export async function collectImageFilesystem(imageDigestOrId: string, cache?: SnapshotCache): Promise<ImageFilesystemSnapshot> {
  const known = cache ? idsByDigest.get(imageDigestOrId) : undefined;
  const byDigest = !known && imageDigestOrId.startsWith("sha256:") ? await findImageByDigest(imageDigestOrId) : null;
  const imageId = known ?? byDigest?.id ?? imageDigestOrId.replace(/^sha256:/, "");
  if (cache && byDigest) idsByDigest.set(imageDigestOrId, imageId);
  const read = () => withImageMount(imageId, (root) => readImageRoot(root));
  return cache ? cache.get(imageId, read) : read();
}

/**
 * Reading an image's files without running it: `podman image mount` (root only) gives the image's
 * root filesystem on the host. Symlinks inside it are resolved against that root, never the host's.
 */
import { lstat, readFile, readlink } from "node:fs/promises";
import { posix } from "node:path";
import { podman, podmanOk } from "./exec.js";

const mounts = new Map<string, { path: Promise<string>; users: number }>();

/** Runs `fn` with the image mounted; mounts are shared and released when the last user is done. */
export async function withImageMount<T>(imageId: string, fn: (root: string) => Promise<T>): Promise<T> {
  let entry = mounts.get(imageId);
  if (!entry) {
    entry = { path: podmanOk(["image", "mount", imageId]).then((s) => s.trim()), users: 0 };
    mounts.set(imageId, entry);
  }
  entry.users++;
  try {
    return await fn(await entry.path);
  } finally {
    entry.users--;
    if (entry.users === 0) {
      mounts.delete(imageId);
      await podman(["image", "unmount", imageId]);
    }
  }
}

/** Resolves `path` inside `root`, following symlinks as the container would (absolute ones from root). */
async function resolveInRoot(root: string, path: string): Promise<string | null> {
  let parts = posix.normalize(path).split("/").filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === "..") {
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, part);
    let st;
    try {
      st = await lstat(host);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return null;
      const target = await readlink(host);
      const rest = target.split("/").filter(Boolean);
      if (target.startsWith("/")) done.length = 0;
      parts = [...rest, ...parts];
      continue;
    }
    done.push(part);
  }
  return posix.join(root, ...done);
}

export async function readFileFromImage(imageId: string, path: string): Promise<Buffer | null> {
  return withImageMount(imageId, async (root) => {
    const host = await resolveInRoot(root, path);
    if (!host) return null;
    try {
      const st = await lstat(host);
      return st.isFile() ? await readFile(host) : null;
    } catch {
      return null;
    }
  });
}

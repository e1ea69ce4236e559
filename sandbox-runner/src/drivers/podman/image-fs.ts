/**
 * The image's filesystem as the inventory needs it: package-database files (dpkg, apk, Python
 * dist-info, node_modules manifests, os-release) as text, every path, and every symlink — so the
 * engine can say "component not present" and resolve /lib → /usr/lib.
 */
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import { findImageByDigest } from "./image-local.js";
import { withImageMount } from "./image-mount.js";

export interface ImageFilesystemSnapshot {
  files: Map<string, string>;
  paths: Set<string>;
  symlinks: Map<string, string>;
}

const MAX_FILE_BYTES = 32 * 1024 * 1024;
const SKIP_DIRS = new Set(["/proc", "/sys", "/dev"]);

/** True for the files whose text the inventory parses. */
export function isPackageDatabase(path: string): boolean {
  return (
    path === "/var/lib/dpkg/status" ||
    path.startsWith("/var/lib/dpkg/status.d/") ||
    (path.startsWith("/var/lib/dpkg/info/") && path.endsWith(".list")) ||
    path === "/lib/apk/db/installed" ||
    path === "/etc/os-release" ||
    path === "/usr/lib/os-release" ||
    /\.dist-info\/(RECORD|METADATA)$/.test(path) ||
    /\/node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path)
  );
}

export async function collectImageFilesystem(imageDigestOrId: string): Promise<ImageFilesystemSnapshot> {
  const byDigest = imageDigestOrId.startsWith("sha256:") ? await findImageByDigest(imageDigestOrId) : null;
  const imageId = byDigest?.id ?? imageDigestOrId.replace(/^sha256:/, "");
  return withImageMount(imageId, (root) => walk(root));
}

async function walk(root: string): Promise<ImageFilesystemSnapshot> {
  const snap: ImageFilesystemSnapshot = { files: new Map(), paths: new Set(), symlinks: new Map() };
  const stack = ["/"];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: string[];
    try {
      entries = await readdir(join(root, dir));
    } catch {
      continue;
    }
    for (const name of entries) {
      const path = posix.join(dir, name);
      const host = join(root, path);
      let st;
      try {
        st = await lstat(host);
      } catch {
        continue;
      }
      snap.paths.add(path);
      if (st.isSymbolicLink()) {
        snap.symlinks.set(path, await readlink(host));
      } else if (st.isDirectory()) {
        if (!SKIP_DIRS.has(path)) stack.push(path);
      } else if (st.isFile() && st.size <= MAX_FILE_BYTES && isPackageDatabase(path)) {
        snap.files.set(path, await readFile(host, "utf8"));
      }
    }
  }
  return snap;
}

/**
 * Reads an image's unpacked root filesystem from disk — a podman image mount, an unpacked OCI
 * layout for the CLI, or `/proc/<pid>/root` of a running target — into what the inventory and the
 * reachability engine need: package-database files as text, every path, every symlink, and what
 * the kernel runs for each executable (ELF interpreter, #! line). Links are read, never followed,
 * so nothing outside `root` is touched.
 */
import { lstat, open, readdir, readFile, readlink } from "node:fs/promises";
import { join, posix } from "node:path";
import type { ExecutableInfo } from "../reachability/types.js";
import { readExecutableInfo } from "./executables.js";

export interface ImageFilesystemSnapshot {
  files: Map<string, string>;
  paths: Set<string>;
  symlinks: Map<string, string>;
  /** Regular files with an execute bit: what the kernel runs for them. */
  executables: Map<string, ExecutableInfo>;
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

export async function readImageRoot(root: string): Promise<ImageFilesystemSnapshot> {
  const snap: ImageFilesystemSnapshot = { files: new Map(), paths: new Set(), symlinks: new Map(), executables: new Map() };
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
      } else if (st.isFile()) {
        if (st.size <= MAX_FILE_BYTES && isPackageDatabase(path)) snap.files.set(path, await readFile(host, "utf8"));
        if ((st.mode & 0o111) !== 0) {
          const info = await executableInfo(host);
          if (info) snap.executables.set(path, info);
        }
      }
    }
  }
  return snap;
}

async function executableInfo(host: string): Promise<ExecutableInfo | null> {
  let fh;
  try {
    fh = await open(host, "r");
    return await readExecutableInfo(fh);
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

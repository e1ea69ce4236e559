/**
 * What a tracer reported as a path, turned into an in-image path — or said plainly to be one that
 * cannot be placed. Tracers report host-side prefixes (an overlay `merged` directory, containerd's
 * `rootfs`, `/proc/<pid>/root`) and procfs magic links (`/proc/self/fd/3`, `/proc/self/exe`) that
 * the engine cannot follow; a relative path whose working directory was not known has no place
 * either. Such a path is never dropped: for code it is unexplained evidence (see analyze.ts).
 */

export type EventPath =
  | { kind: "path"; path: string }
  /** Code from no file in the image (memfd, anonymous): what wrote it is traced on its own. */
  | { kind: "anonymous" }
  | { kind: "unresolvable"; reason: string };

const PROC_ROOT = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/root(\/.*)?$/;
const PROC_MAGIC = /^\/(?:proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/(?:fd|exe|cwd|map_files)(?:\/|$)|dev\/fd\/)/;
// Host paths of a container's root: podman/CRI-O overlay, Docker overlay2, containerd's rootfs.
const HOST_ROOT = [
  /^\/.+\/overlay2?\/[0-9a-f]{12,}\/(?:merged|diff)(\/.*)?$/,
  /^\/.+\/overlay-containers\/[0-9a-f]{12,}\/userdata\/(?:merged|rootfs)(\/.*)?$/,
  /^\/run\/containerd\/io\.containerd\.runtime\.v2\.task\/[^/]+\/[^/]+\/rootfs(\/.*)?$/,
];

/** Paths that need none of the checks below (nearly all of them): absolute, not procfs, no host root. */
function plain(raw: string): boolean {
  return raw.charCodeAt(0) === 47 && !raw.startsWith("/proc/") && !raw.startsWith("/dev/fd/") && !raw.startsWith("/memfd:") && !raw.startsWith("/run/containerd/") && !raw.includes("/overlay") && raw !== "/[anon]";
}

export function inImagePath(raw: string): EventPath {
  if (plain(raw)) return { kind: "path", path: raw };
  if (raw.startsWith("/memfd:") || raw.startsWith("anon_inode:") || raw === "/[anon]") return { kind: "anonymous" };
  if (!raw.startsWith("/")) return { kind: "unresolvable", reason: `relative path ${JSON.stringify(raw)} with an unknown working directory` };
  for (let i = 0; i < 8; i++) {
    const root = PROC_ROOT.exec(raw) ?? HOST_ROOT.map((re) => re.exec(raw)).find((m) => m);
    if (!root) break;
    raw = root[1] || "/";
  }
  if (PROC_MAGIC.test(raw)) return { kind: "unresolvable", reason: `${raw} names a file descriptor or process the trace could not follow` };
  return { kind: "path", path: raw };
}

/**
 * The image as the tracing sidecar read it through the target's /proc/<pid>/root (sidecar-script.ts
 * SNAPSHOT_ROOT): paths with link targets, package databases, and each executable's first bytes.
 * A snapshot without its `complete` marker was cut short and is not used: a partial path list would
 * make present packages look absent.
 */
import { executableInfoFromHead } from "../../../image/executables.js";
import { isPackageDatabase, type ImageFilesystemSnapshot } from "../../../image/root-fs.js";
import { readTar } from "./tar.js";

const HEAD_BYTES = 4096;

/** `entries`: the trace archive's files under image/ (name without the prefix → contents). */
export function imageFromSnapshot(entries: Map<string, Buffer>): ImageFilesystemSnapshot | null {
  if (!entries.has("complete") || !entries.has("paths")) return null;
  const snap: ImageFilesystemSnapshot = { files: new Map(), paths: new Set(), symlinks: new Map(), executables: new Map() };
  for (const line of entries.get("paths")!.toString("utf8").split("\n")) {
    const [type, , rel, link] = line.split("\t");
    if (!rel) continue;
    const path = `/${rel}`;
    snap.paths.add(path);
    if (type === "l" && link !== undefined) snap.symlinks.set(path, link);
  }
  const db = entries.get("db.tar");
  if (db) {
    for (const [name, data] of readTar(db)) {
      const path = `/${name.replace(/^(\.\/)+/, "")}`;
      if (isPackageDatabase(path)) snap.files.set(path, data.toString("utf8"));
    }
  }
  for (const [name, head] of entries) {
    if (!name.startsWith("heads/")) continue;
    const path = `/${name.slice("heads/".length).replace(/^(\.\/)+/, "")}`;
    const info = executableInfoFromHead(head, head.length < HEAD_BYTES);
    // Beyond the first bytes: unknown, which the engine treats as "some loader may have run".
    if (info) snap.executables.set(path, info);
  }
  return snap;
}

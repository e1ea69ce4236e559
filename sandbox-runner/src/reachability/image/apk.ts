/**
 * Alpine package database `/lib/apk/db/installed`: blank-line separated records; `P:` name,
 * `V:` version, `A:` arch, `F:` a directory (relative to /) and the `R:` lines after it name that
 * directory's files.
 */
import type { PackageDraft } from "../inventory.js";
import { buildPurl } from "../purl.js";

const APK_DB = "/lib/apk/db/installed";

export function apkDrafts(files: Map<string, string>, distroId: string): PackageDraft[] {
  const text = files.get(APK_DB);
  if (text === undefined) return [];
  const drafts: PackageDraft[] = [];
  let name = "";
  let version = "";
  let arch = "";
  let dir = "";
  let owned: string[] = [];
  const flush = () => {
    if (name && version) {
      drafts.push({
        name,
        version,
        type: "apk",
        purl: buildPurl("apk", name, version, { namespace: distroId || "alpine", arch: arch || undefined }),
        files: owned,
        locations: [APK_DB],
        source: "apk",
      });
    }
    name = version = arch = dir = "";
    owned = [];
  };
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (line === "") {
      flush();
      continue;
    }
    const key = line.slice(0, 2);
    const value = line.slice(2);
    if (key === "P:") name = value;
    else if (key === "V:") version = value;
    else if (key === "A:") arch = value;
    else if (key === "F:") dir = value;
    else if (key === "R:") owned.push(dir ? `/${dir}/${value}` : `/${value}`);
  }
  flush();
  return drafts;
}

/**
 * Debian package database: `/var/lib/dpkg/status` paragraphs with `/var/lib/dpkg/info/<pkg>.list`
 * (or `<pkg>:<arch>.list`) file lists; distroless images instead ship one paragraph per file in
 * `/var/lib/dpkg/status.d/<pkg>` with `<pkg>.md5sums` (paths without the leading slash).
 */
import type { PackageDraft } from "../inventory.js";
import { buildPurl } from "../purl.js";

function parseDebControl(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let last = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (Object.keys(cur).length > 0) out.push(cur);
      cur = {};
      last = "";
      continue;
    }
    if ((line.startsWith(" ") || line.startsWith("\t")) && last) {
      cur[last] += "\n" + line.trim();
      continue;
    }
    const i = line.indexOf(":");
    if (i <= 0) continue;
    last = line.slice(0, i);
    cur[last] = line.slice(i + 1).trim();
  }
  if (Object.keys(cur).length > 0) out.push(cur);
  return out;
}

export function dpkgDrafts(files: Map<string, string>, distroId: string): PackageDraft[] {
  const drafts: PackageDraft[] = [];
  const status = files.get("/var/lib/dpkg/status");
  if (status !== undefined) {
    for (const p of parseDebControl(status)) {
      const d = draftFrom(p, distroId, "/var/lib/dpkg/status");
      if (!d) continue;
      const arch = p.Architecture;
      const list =
        files.get(`/var/lib/dpkg/info/${d.name}.list`) ?? (arch ? files.get(`/var/lib/dpkg/info/${d.name}:${arch}.list`) : undefined);
      if (list !== undefined) d.files = listLines(list).filter((l) => l !== "/.");
      drafts.push(d);
    }
  }
  const prefix = "/var/lib/dpkg/status.d/";
  for (const [path, text] of files) {
    if (!path.startsWith(prefix) || path.endsWith(".md5sums")) continue;
    for (const p of parseDebControl(text)) {
      const d = draftFrom(p, distroId, path);
      if (!d) continue;
      const sums = files.get(`${path}.md5sums`) ?? files.get(`${prefix}${d.name}.md5sums`);
      if (sums !== undefined) {
        d.files = listLines(sums).map((l) => {
          const m = /^[0-9a-f]+\s+(.+)$/.exec(l);
          const rel = m ? m[1]! : l;
          return rel.startsWith("/") ? rel : `/${rel}`;
        });
      }
      drafts.push(d);
    }
  }
  return drafts;
}

function draftFrom(p: Record<string, string>, distroId: string, location: string): PackageDraft | undefined {
  const name = p.Package;
  const version = p.Version;
  if (!name || !version) return undefined;
  // Only installed packages own files; "deinstall ok config-files" leaves config behind only.
  if (p.Status && !/\binstalled\b/.test(p.Status.split(" ")[2] ?? "")) return undefined;
  return {
    name,
    version,
    type: "deb",
    purl: buildPurl("deb", name, version, { namespace: distroId, arch: p.Architecture }),
    files: [],
    locations: [location],
    source: "dpkg",
  };
}

function listLines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

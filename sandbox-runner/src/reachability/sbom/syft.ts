/**
 * Syft native JSON (schemas 1–16): artifacts with `metadata.files` (the package manager's file
 * list), `artifactRelationships` of type `contains` from a package to a file id, and `files[]`
 * mapping file ids to locations.
 */
import { arr, isRecord, str } from "../errors.js";
import { finaliseInventory, type PackageDraft } from "../inventory.js";
import { joinPath } from "../paths.js";
import type { PackageInventory } from "../types.js";

export function isSyftJson(doc: Record<string, unknown>): boolean {
  return Array.isArray(doc.artifacts) && (isRecord(doc.descriptor) || isRecord(doc.schema) || "artifactRelationships" in doc);
}

export function inventoryFromSyft(doc: Record<string, unknown>): PackageInventory {
  const notes: string[] = [];
  const fileLocations = new Map<string, string>();
  for (const f of arr(doc.files)) {
    if (!isRecord(f) || !isRecord(f.location)) continue;
    const id = str(f.id);
    const path = str(f.location.path);
    if (id && path) fileLocations.set(id, path);
  }
  const contains = new Map<string, string[]>();
  let unresolved = 0;
  for (const r of arr(doc.artifactRelationships)) {
    if (!isRecord(r) || r.type !== "contains") continue;
    const parent = str(r.parent);
    const child = str(r.child);
    if (!parent || !child) continue;
    const path = fileLocations.get(child);
    if (path === undefined) {
      // Children that are packages (the image source contains packages) are not files.
      continue;
    }
    let list = contains.get(parent);
    if (!list) contains.set(parent, (list = []));
    list.push(path);
  }
  const drafts: PackageDraft[] = [];
  for (const a of arr(doc.artifacts)) {
    if (!isRecord(a)) continue;
    const name = str(a.name);
    if (!name) continue;
    const id = str(a.id);
    const meta = isRecord(a.metadata) ? a.metadata : {};
    const metaFiles = metadataFiles(meta);
    if (metaFiles.unresolved > 0) unresolved += metaFiles.unresolved;
    // The package manager's own list is the truth about ownership; Syft's `contains` adds the
    // files it resolved (through symlinks), which would make /bin/busybox belong to busybox-binsh.
    const related = id ? (contains.get(id) ?? []) : [];
    const files = metaFiles.paths.length > 0 ? metaFiles.paths : related;
    const locations = arr(a.locations)
      .map((l) => (isRecord(l) ? (str(l.accessPath) ?? str(l.path)) : undefined))
      .filter((p): p is string => p !== undefined);
    drafts.push({
      name,
      version: str(a.version) ?? "",
      type: str(a.type),
      purl: str(a.purl),
      files,
      locations,
      source: "syft",
    });
  }
  if (unresolved > 0) {
    notes.push(`${unresolved} relative file paths in Syft package metadata had no site-packages root and were skipped`);
  }
  const schema = isRecord(doc.schema) ? str(doc.schema.version) : undefined;
  return finaliseInventory(drafts, [`syft-json${schema ? ` ${schema}` : ""}`], notes);
}

/** `metadata.files`: apk/dpkg/rpm give absolute paths; Python gives paths relative to site-packages. */
function metadataFiles(meta: Record<string, unknown>): { paths: string[]; unresolved: number } {
  const entries = arr(meta.files);
  if (entries.length === 0) return { paths: [], unresolved: 0 };
  const root = str(meta.sitePackagesRootPath);
  // Directories in these lists are dropped later (a path that is another path's parent). A digest
  // heuristic would also drop real files without one, and a missing file hides evidence.
  const paths: string[] = [];
  let unresolved = 0;
  for (const e of entries) {
    if (!isRecord(e)) continue;
    const p = str(e.path);
    if (!p) continue;
    if (p.startsWith("/")) paths.push(p);
    else if (root) paths.push(joinPath(root, p));
    else unresolved++;
  }
  return { paths, unresolved };
}

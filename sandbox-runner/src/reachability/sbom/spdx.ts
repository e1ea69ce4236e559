/**
 * SPDX 2.3 JSON: `packages[]` with purls in `externalRefs`, `files[]` with `fileName`, and
 * `relationships` CONTAINS (package → file; CONTAINED_BY the other way) plus `hasFiles`. The
 * package the document DESCRIBES (the image itself) and packages that contain other packages are
 * not components.
 */
import { arr, isRecord, str } from "../errors.js";
import { finaliseInventory, type PackageDraft } from "../inventory.js";
import { parsePurl } from "../purl.js";
import type { PackageInventory } from "../types.js";

export function isSpdx(doc: Record<string, unknown>): boolean {
  return typeof doc.spdxVersion === "string" && Array.isArray(doc.packages);
}

export function inventoryFromSpdx(doc: Record<string, unknown>): PackageInventory {
  const notes: string[] = [];
  const fileName = new Map<string, string>();
  for (const f of arr(doc.files)) {
    if (!isRecord(f)) continue;
    const id = str(f.SPDXID);
    const name = str(f.fileName);
    if (id && name) fileName.set(id, name.startsWith("/") ? name : `/${name.replace(/^\.\//, "")}`);
  }
  const packageIds = new Set<string>();
  for (const p of arr(doc.packages)) if (isRecord(p) && str(p.SPDXID)) packageIds.add(p.SPDXID as string);

  const contained = new Map<string, string[]>();
  const containers = new Set<string>();
  const described = new Set<string>(arr(doc.documentDescribes).filter((x): x is string => typeof x === "string"));
  const link = (pkg: string, file: string) => {
    const path = fileName.get(file);
    if (path === undefined) return;
    let l = contained.get(pkg);
    if (!l) contained.set(pkg, (l = []));
    l.push(path);
  };
  for (const r of arr(doc.relationships)) {
    if (!isRecord(r)) continue;
    const a = str(r.spdxElementId);
    const b = str(r.relatedSpdxElement);
    const t = str(r.relationshipType);
    if (!a || !b || !t) continue;
    if (t === "DESCRIBES") described.add(b);
    else if (t === "DESCRIBED_BY") described.add(a);
    else if (t === "CONTAINS") {
      if (packageIds.has(b)) containers.add(a);
      else link(a, b);
    } else if (t === "CONTAINED_BY") {
      if (packageIds.has(a)) containers.add(b);
      else link(b, a);
    }
  }
  const drafts: PackageDraft[] = [];
  for (const p of arr(doc.packages)) {
    if (!isRecord(p)) continue;
    const id = str(p.SPDXID) ?? "";
    const name = str(p.name);
    if (!name) continue;
    const purl = purlOf(p);
    const purpose = str(p.primaryPackagePurpose);
    const ptype = purl ? parsePurl(purl)?.type : undefined;
    if (described.has(id) || purpose === "CONTAINER" || purpose === "OPERATING-SYSTEM" || ptype === "oci" || ptype === "docker") continue;
    if (containers.has(id) && !contained.has(id)) continue;
    const files = [...(contained.get(id) ?? [])];
    for (const f of arr(p.hasFiles)) {
      const path = typeof f === "string" ? fileName.get(f) : undefined;
      if (path) files.push(path);
    }
    drafts.push({
      name: purl ? (parsePurl(purl)?.name ?? name) : name,
      version: str(p.versionInfo) ?? (purl ? (parsePurl(purl)?.version ?? "") : ""),
      purl,
      files,
      locations: [],
      source: "spdx",
    });
  }
  if (fileName.size > 0 && contained.size === 0 && drafts.every((d) => d.files.length === 0)) {
    notes.push(`${fileName.size} SPDX files are not linked to any package by CONTAINS or hasFiles; they could not be attributed`);
  }
  return finaliseInventory(drafts, [`spdx-json ${str(doc.spdxVersion) ?? "?"}`], notes);
}

function purlOf(p: Record<string, unknown>): string | undefined {
  for (const ref of arr(p.externalRefs)) {
    if (!isRecord(ref)) continue;
    const cat = str(ref.referenceCategory);
    if (ref.referenceType === "purl" && (cat === "PACKAGE-MANAGER" || cat === "PACKAGE_MANAGER" || cat === undefined)) {
      return str(ref.referenceLocator);
    }
  }
  return undefined;
}

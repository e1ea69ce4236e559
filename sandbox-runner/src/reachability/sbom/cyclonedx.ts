/**
 * CycloneDX 1.4–1.6 JSON. A component's files come from, in order of trust: nested components of
 * type "file" (CycloneDX's way to say "contains"), top-level file components it depends on, and
 * `evidence.occurrences[].location`; Syft's `syft:location:N:path` properties say only where the
 * package was found.
 */
import { arr, isRecord, str } from "../errors.js";
import { finaliseInventory, type PackageDraft } from "../inventory.js";
import { parsePurl } from "../purl.js";
import type { PackageInventory } from "../types.js";

export function isCycloneDx(doc: Record<string, unknown>): boolean {
  return doc.bomFormat === "CycloneDX" || (typeof doc.specVersion === "string" && Array.isArray(doc.components));
}

/** Component types that are not installable packages. */
const NOT_PACKAGES = new Set(["file", "operating-system", "container", "device", "firmware", "data", "machine-learning-model", "platform"]);

export function flattenComponents(doc: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (list: unknown) => {
    for (const c of arr(list)) {
      if (!isRecord(c)) continue;
      out.push(c);
      walk(c.components);
    }
  };
  walk(doc.components);
  return out;
}

export function inventoryFromCycloneDx(doc: Record<string, unknown>): PackageInventory {
  const notes: string[] = [];
  const all = flattenComponents(doc);
  const fileByRef = new Map<string, string>();
  for (const c of all) {
    if (c.type !== "file") continue;
    const ref = str(c["bom-ref"]);
    const path = filePath(c);
    if (ref && path) fileByRef.set(ref, path);
  }
  const dependsOn = new Map<string, string[]>();
  for (const d of arr(doc.dependencies)) {
    if (!isRecord(d)) continue;
    const ref = str(d.ref);
    if (ref) dependsOn.set(ref, arr(d.dependsOn).filter((x): x is string => typeof x === "string"));
  }
  const drafts: PackageDraft[] = [];
  let skippedFiles = 0;
  for (const c of all) {
    const type = str(c.type) ?? "library";
    if (NOT_PACKAGES.has(type)) {
      if (type === "file") skippedFiles++;
      continue;
    }
    const name = str(c.name);
    if (!name) continue;
    const purl = str(c.purl);
    const files: string[] = [];
    for (const child of arr(c.components)) {
      if (isRecord(child) && child.type === "file") {
        const p = filePath(child);
        if (p) files.push(p);
      }
    }
    const ref = str(c["bom-ref"]);
    for (const dep of ref ? (dependsOn.get(ref) ?? []) : []) {
      const p = fileByRef.get(dep);
      if (p) files.push(p);
    }
    const locations: string[] = [];
    const evidence = isRecord(c.evidence) ? c.evidence : {};
    for (const o of arr(evidence.occurrences)) {
      const p = isRecord(o) ? str(o.location) : undefined;
      if (p) locations.push(absolute(p));
    }
    let syftType: string | undefined;
    for (const prop of arr(c.properties)) {
      if (!isRecord(prop)) continue;
      const pname = str(prop.name) ?? "";
      const value = str(prop.value);
      if (!value) continue;
      if (/^syft:location:\d+:path$/.test(pname)) locations.push(absolute(value));
      else if (pname === "syft:package:type") syftType = value;
    }
    drafts.push({
      name: componentName(c, name, purl),
      version: str(c.version) ?? (purl ? (parsePurl(purl)?.version ?? "") : ""),
      type: syftType,
      purl,
      files,
      locations,
      source: "cyclonedx",
    });
  }
  if (skippedFiles > 0 && drafts.every((d) => d.files.length === 0)) {
    notes.push(`${skippedFiles} CycloneDX file components are not linked to any package (no nesting or dependsOn); they could not be attributed`);
  }
  return finaliseInventory(drafts, [`cyclonedx-json ${str(doc.specVersion) ?? "?"}`], notes);
}

/** Maven components carry the groupId in `group`; keep the purl's name for matching. */
function componentName(c: Record<string, unknown>, name: string, purl: string | undefined): string {
  const group = str(c.group);
  if (!group || !purl) return name;
  return parsePurl(purl)?.name ?? name;
}

function filePath(c: Record<string, unknown>): string | undefined {
  for (const prop of arr(c.properties)) {
    if (isRecord(prop) && /^syft:location:\d+:path$/.test(str(prop.name) ?? "")) {
      const v = str(prop.value);
      if (v) return absolute(v);
    }
  }
  const evidence = isRecord(c.evidence) ? c.evidence : {};
  for (const o of arr(evidence.occurrences)) {
    const p = isRecord(o) ? str(o.location) : undefined;
    if (p) return absolute(p);
  }
  const name = str(c.name);
  return name ? absolute(name) : undefined;
}

function absolute(p: string): string {
  return p.startsWith("/") ? p : `/${p}`;
}

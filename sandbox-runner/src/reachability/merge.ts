import { mergeInto } from "./inventory.js";
import type { InventoryPackage, PackageInventory } from "./types.js";

/**
 * Unions inventories (an SBOM and the image's own databases, say). Packages with the same identity
 * (ecosystem, normalised name, version) become one; a package-manager file list beats a bare
 * "found at" location, so a CycloneDX apk entry gains the files /lib/apk/db/installed lists.
 */
export function mergeInventories(...inventories: PackageInventory[]): PackageInventory {
  const byKey = new Map<string, InventoryPackage>();
  const packages: InventoryPackage[] = [];
  const formats: string[] = [];
  const notes: string[] = [];
  for (const inv of inventories) {
    formats.push(...inv.formats);
    notes.push(...inv.notes);
    for (const p of inv.packages) {
      const prev = byKey.get(p.key);
      if (prev) {
        mergeInto(prev, p);
        continue;
      }
      const copy: InventoryPackage = { ...p, files: p.files.slice(), dirs: p.dirs.slice(), sources: p.sources.slice() };
      byKey.set(p.key, copy);
      packages.push(copy);
    }
  }
  return { packages, formats: [...new Set(formats)], notes: [...new Set(notes)] };
}

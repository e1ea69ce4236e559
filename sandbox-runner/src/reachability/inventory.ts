/**
 * Turns what a parser found (drafts) into a PackageInventory: paths normalised, directories and
 * package-manager databases dropped (they belong to no single package's code), and packages that
 * only have a "found at" location marked as such so the rules never over-trust them.
 */
import { normalisePath, dirname } from "./paths.js";
import { ecosystemOf, identityKey } from "./purl.js";
import type { InventoryPackage, PackageInventory } from "./types.js";

export interface PackageDraft {
  name: string;
  version: string;
  type?: string;
  purl?: string;
  /** Installed files (package-manager list, contains relations). */
  files: string[];
  /** Where the package was found (manifest, archive, binary, package DB). */
  locations: string[];
  dirs?: string[];
  source: string;
}

/** Package-manager databases: every package of that manager is "found" there, so it is no evidence. */
const PACKAGE_DB = [
  /^\/lib\/apk\/db\//,
  /^\/var\/lib\/dpkg\//,
  /^\/var\/lib\/rpm\//,
  /^\/usr\/lib\/sysimage\/rpm\//,
  /^\/var\/lib\/apk\//,
];

export function isPackageDb(p: string): boolean {
  return PACKAGE_DB.some((re) => re.test(p));
}

export function finaliseInventory(drafts: PackageDraft[], formats: string[], notes: string[]): PackageInventory {
  // A path that is the parent of another listed path is a directory (dpkg .list files, apk and
  // Syft metadata list directories); directories are shared by many packages and hold no code.
  const directories = new Set<string>();
  for (const d of drafts) {
    for (const f of d.files) addAncestors(directories, normalisePath(f));
    for (const f of d.locations) addAncestors(directories, normalisePath(f));
  }
  const byKey = new Map<string, InventoryPackage>();
  const packages: InventoryPackage[] = [];
  for (const d of drafts) {
    const ecosystem = ecosystemOf(d.type, d.purl);
    const key = identityKey(ecosystem, d.name, d.version);
    const files = uniquePaths(d.files, directories);
    const locations = uniquePaths(d.locations, directories);
    const dirs = [...new Set((d.dirs ?? []).map(normalisePath))];
    const owned = files.length > 0 || dirs.length > 0;
    const pkg: InventoryPackage = {
      key,
      name: d.name,
      version: d.version,
      ecosystem,
      ...(d.purl ? { purl: d.purl } : {}),
      files: owned ? files : locations,
      dirs,
      fileEvidence: owned ? "owned" : "location",
      sources: [d.source],
    };
    const prev = byKey.get(key);
    if (prev) mergeInto(prev, pkg);
    else {
      byKey.set(key, pkg);
      packages.push(pkg);
    }
  }
  return { packages, formats, notes };
}

/** Merges b into a (same identity): owned file lists win over locations; lists are unioned. */
export function mergeInto(a: InventoryPackage, b: InventoryPackage): void {
  if (a.fileEvidence === b.fileEvidence) a.files = union(a.files, b.files);
  else if (b.fileEvidence === "owned") {
    a.files = b.files.slice();
    a.fileEvidence = "owned";
  }
  a.dirs = union(a.dirs, b.dirs);
  if (!a.purl && b.purl) a.purl = b.purl;
  a.sources = union(a.sources, b.sources);
}

function union(a: string[], b: string[]): string[] {
  if (b.length === 0) return a;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return [...s];
}

function addAncestors(set: Set<string>, p: string): void {
  let d = dirname(p);
  while (d !== "/" && !set.has(d)) {
    set.add(d);
    d = dirname(d);
  }
}

function uniquePaths(paths: string[], directories: Set<string>): string[] {
  const out = new Set<string>();
  for (const raw of paths) {
    const p = normalisePath(raw);
    if (p === "/" || directories.has(p) || isPackageDb(p)) continue;
    out.add(p);
  }
  return [...out];
}

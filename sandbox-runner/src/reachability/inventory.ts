/**
 * Turns what a parser found (drafts) into a PackageInventory: paths normalised, directories and
 * package-manager databases dropped (they belong to no single package's code), and packages that
 * only have a "found at" location marked as such so the rules never over-trust them.
 */
import { basename, normalisePath, dirname } from "./paths.js";
import { ecosystemOf, packageIdentity } from "./purl.js";
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

function isPackageDb(p: string): boolean {
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
    const key = packageIdentity({ ecosystem, name: d.name, version: d.version, ...(d.purl ? { purl: d.purl } : {}) });
    const listed = classifyFiles(
      ecosystem,
      uniquePaths(d.files, directories),
      uniquePaths(d.locations.map(outerArchive), directories),
      [...new Set((d.dirs ?? []).map(normalisePath))],
    );
    const pkg: InventoryPackage = {
      key,
      name: d.name,
      version: d.version,
      ecosystem,
      ...(d.purl ? { purl: d.purl } : {}),
      ...listed,
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

const ARCHIVE = /\.(?:jar|war|ear|par|sar|hpi|jpi|whl|egg|zip|nupkg)$/i;
const PYTHON_METADATA = /\.(?:dist|egg)-info\/|\/(?:METADATA|PKG-INFO)$/;
const NPM_MANIFEST = /\/node_modules\/(?:@[^/]+\/)?[^/]+\/package\.json$/;
/** Manifests and lock files: where a scanner read a package's name, never where its code is. */
const LOCK_OR_MANIFEST = /(?:^|\/)(?:go\.mod|go\.sum|Cargo\.lock|Cargo\.toml|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|requirements[^/]*\.txt|Pipfile\.lock|poetry\.lock|pom\.xml|[^/]*\.gemspec|Gemfile\.lock|composer\.lock|packages\.lock\.json|[^/]*\.deps\.json)$/;
/** Ecosystems whose code is compiled into the binary a scanner found it in. */
const BINARY_ECOSYSTEMS = new Set(["golang", "cargo"]);

/** Syft's nested-archive spelling `/app.jar:BOOT-INF/lib/x.jar`: the code is inside /app.jar. */
function outerArchive(p: string): string {
  const m = /^(.+?\.(?:jar|war|ear|par|sar|hpi|jpi|zip)):/i.exec(p);
  return m ? m[1]! : p;
}

/**
 * How good the file list is (types.ts FileEvidence). A list of only metadata is not an installed
 * list (Trivy's SPDX links a Python package only to its METADATA); a list of only archives, or a
 * binary a Go/Rust package was compiled into, means the package's code is that file.
 */
function classifyFiles(
  ecosystem: string,
  files: string[],
  locations: string[],
  dirs: string[],
): Pick<InventoryPackage, "files" | "dirs" | "fileEvidence"> {
  const list = files.length > 0 ? files : locations;
  if (dirs.length > 0 && files.length === 0) return { files: [], dirs, fileEvidence: "owned" };
  if (list.length === 0) return { files: [], dirs: [], fileEvidence: files.length > 0 || dirs.length > 0 ? "owned" : "location" };
  if (ecosystem === "npm" && list.every((f) => basename(f) === "package.json")) {
    // npm installs a package into its own directory and nothing else: the directory is the list.
    if (list.every((f) => NPM_MANIFEST.test(f))) return { files: [], dirs: union(dirs, list.map(dirname)), fileEvidence: "owned" };
    return { files: list, dirs, fileEvidence: "manifest" };
  }
  if (ecosystem === "pypi" && list.every((f) => PYTHON_METADATA.test(f))) return { files: list, dirs, fileEvidence: "manifest" };
  if (list.every((f) => ARCHIVE.test(f))) return { files: list, dirs, fileEvidence: "archive" };
  if (files.length > 0) return { files, dirs, fileEvidence: "owned" };
  if (BINARY_ECOSYSTEMS.has(ecosystem) && !list.some((f) => LOCK_OR_MANIFEST.test(f))) return { files: list, dirs, fileEvidence: "archive" };
  return { files: list, dirs, fileEvidence: "location" };
}

/** Trust order when two inputs describe the same package: a complete list wins. */
const EVIDENCE_RANK: Record<InventoryPackage["fileEvidence"], number> = { owned: 3, archive: 2, manifest: 1, location: 0 };

/** Merges b into a (same identity): the better file list wins; lists of the same kind are unioned. */
export function mergeInto(a: InventoryPackage, b: InventoryPackage): void {
  if (a.fileEvidence === b.fileEvidence) a.files = union(a.files, b.files);
  else if (EVIDENCE_RANK[b.fileEvidence] > EVIDENCE_RANK[a.fileEvidence]) {
    a.files = b.files.slice();
    a.fileEvidence = b.fileEvidence;
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

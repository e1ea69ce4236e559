/**
 * Data model of the reachability engine: what the image contains (PackageInventory), what the
 * scanners say about it (VulnerabilityMatch) and what the engine concludes (ReachabilityReport).
 * Every type here is plain JSON so the report can be stored and sent as it is.
 */

/**
 * How good a package's file list is; the decision rules trust some kinds more than others.
 * Only "owned" and "archive" lists can support an absence claim (see decide.ts).
 */
type FileEvidence =
  /**
   * The complete installed-file list: a package manager's own list (dpkg .list, apk, RECORD), an
   * SBOM's contains relation, or the directory npm installs a package into.
   */
  | "owned"
  /**
   * The package's code is the archive or binary it was found in (a jar, a wheel, a Go binary), and
   * nothing else: no process that never opened, mapped or ran that file can have run its code.
   */
  | "archive"
  /** Only the package's metadata (a dist-info METADATA, a package.json outside node_modules). */
  | "manifest"
  /** Only where a scanner found it (a lock file, a package database): not its files at all. */
  | "location";

/**
 * What the kernel does when an image file is executed, read from the image itself: an ELF
 * executable's PT_INTERP (the loader the kernel maps with no syscall of its own), or a script's
 * `#!` line (the interpreter the kernel runs in its place).
 */
export type ExecutableInfo =
  | { kind: "elf"; interpreter: string | null }
  | { kind: "script"; interpreter: string; arg?: string }
  | { kind: "other" };

export interface InventoryPackage {
  /** Stable key inside one inventory (identity of the package, see identityKey). */
  key: string;
  name: string;
  version: string;
  /** Ecosystem: apk, deb, rpm, pypi, npm, golang, maven, gem, cargo, generic, ... */
  ecosystem: string;
  /** Package URL as the source gave it (qualifiers kept). */
  purl?: string;
  /** Absolute, normalised in-image paths of the package's regular files and symlinks. */
  files: string[];
  /** Directories the package owns as a whole (node_modules/<name>/), without a file listing. */
  dirs: string[];
  fileEvidence: FileEvidence;
  /** Which inputs described this package: "syft", "cyclonedx", "spdx", "dpkg", "apk", ... */
  sources: string[];
}

export interface PackageInventory {
  packages: InventoryPackage[];
  /** Input formats that contributed, e.g. ["syft-json 16.0.39", "dpkg"]. */
  formats: string[];
  /** What the parsers could not use, in words a user can act on. */
  notes: string[];
}

interface VulnerablePackageRef {
  name: string;
  version: string;
  ecosystem?: string;
  purl?: string;
}

export interface VulnerabilityMatch {
  id: string;
  aliases: string[];
  severity?: string;
  description?: string;
  package: VulnerablePackageRef;
  /** Versions that fix it, best first; empty when unknown or not fixed. */
  fixVersions: string[];
  fixState: "fixed" | "not-fixed" | "wont-fix" | "unknown";
  source: "grype" | "trivy" | "cyclonedx";
}

export type VexStatus = "not_affected" | "affected" | "under_investigation";
export type VexJustification = "component_not_present" | "vulnerable_code_not_in_execute_path";
export type Confidence = "high" | "medium" | "low";
/** "standard" issues medium-confidence not_affected verdicts; "strict" only high-confidence ones. */
export type VexPolicy = "standard" | "strict";

/** What the traced run did with one package's files. */
export type UsageState = "executed" | "mapped" | "loaded" | "opened" | "untouched" | "no_files";

export interface PackageUsage {
  key: string;
  name: string;
  version: string;
  ecosystem: string;
  purl?: string;
  file_evidence: FileEvidence;
  file_count: number;
  dir_count: number;
  /** Files of this package that at least one other package also lists. */
  shared_file_count: number;
  /** null when the image's path list was not given. */
  present_in_image: boolean | null;
  state: UsageState;
  /** Counts and first few paths per kind of use (lists are capped, counts are exact). */
  executed: PathSample;
  mapped: PathSample;
  loaded: PathSample;
  opened: PathSample;
  /** Executed/mapped/loaded files that other packages also own (use cannot be attributed). */
  ambiguous: PathSample;
}

export interface PathSample {
  count: number;
  paths: string[];
}

export interface Decision {
  vulnerability: { id: string; aliases: string[]; severity?: string };
  package: { key: string | null; name: string; version: string; ecosystem: string; purl?: string };
  status: VexStatus;
  justification?: VexJustification;
  impact_statement?: string;
  action_statement?: string;
  confidence: Confidence;
  /** Files whose use (or absence) the decision rests on; capped. */
  evidence_files: string[];
  reason: string;
  fix_versions: string[];
}

interface EvidenceSummary {
  trace_source: string | null;
  from_first_exec: boolean;
  complete: boolean;
  duration_ms: number;
  healthy: boolean;
  exercised: boolean;
  health_notes: string[];
  events: { execs: number; opens: number; mmaps: number };
  /** Event paths no package owns (the application's own files, /proc, /etc/...); capped sample. */
  unowned_paths: PathSample;
  /** Code that ran (executed, mapped executable, loaded) that no package's file list explains. */
  unexplained_code: { count: number; paths: { path: string | null; reported: string; kind: string; why: string }[] };
  /** The image's executables (ELF interpreters, #! lines) were read. */
  image_read: boolean;
  policy: VexPolicy;
}

export interface ReachabilityReport {
  schema: "vexxy.reachability/v1";
  verdicts: { enabled: boolean; unlock_tier: string; message?: string };
  inventory_formats: string[];
  evidence: EvidenceSummary;
  packages: PackageUsage[];
  decisions: Decision[];
  summary: {
    packages: number;
    packages_by_state: Record<UsageState, number>;
    vulnerabilities: number;
    decisions: number;
    affected: number;
    not_affected: number;
    under_investigation: number;
    component_not_present: number;
    vulnerable_code_not_in_execute_path: number;
  };
  notes: string[];
}

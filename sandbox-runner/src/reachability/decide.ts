/**
 * THE decision rules, in one place (docs/reachability.md explains them). A decision is made per
 * package — every vulnerability of that package shares it — and then worded per vulnerability.
 *
 * The asymmetry is deliberate: evidence of use is enough for `affected`, but `not_affected` needs
 * evidence that the absence of use means something (a complete trace from the first exec of a
 * healthy, exercised application) and that the package's files are its own. A wrong not_affected
 * hides a real risk; a wrong under_investigation only asks for a look.
 */
import type { RunHealth, RuntimeTrace } from "../trace/types.js";
import type { Confidence, InventoryPackage, VexJustification, VexPolicy, VexStatus } from "./types.js";
import type { PackageUse } from "./usage.js";

export interface PackageFacts {
  pkg: InventoryPackage;
  use: PackageUse | undefined;
  sharedFileCount: number;
  /** null: the image's path list was not given, so presence is undecidable. */
  present: boolean | null;
  /** Sample of the package's files that the image does not contain (when present === false). */
  missing: string[];
  /** Evidence that code which could be this package's ran unseen (doubts.ts). */
  doubts: string[];
}

export interface RunContext {
  trace: RuntimeTrace | null;
  health: RunHealth;
  verdicts: { enabled: boolean; unlockTier: string };
  /** The image's executables were read, so the loaders and interpreters the kernel ran are known. */
  imageRead: boolean;
  policy: VexPolicy;
}

export interface PackageVerdict {
  status: VexStatus;
  justification?: VexJustification;
  impact_statement?: string;
  confidence: Confidence;
  reason: string;
  evidence_files: string[];
  /** For affected: a short "its code ran" phrase the action statement quotes. */
  proof?: string;
}

const EVIDENCE_CAP = 20;

export function decidePackage(f: PackageFacts, ctx: RunContext): PackageVerdict {
  const { pkg, use } = f;
  const label = `${pkg.name} ${pkg.version}`;
  const ran = [...(use?.exec ?? []), ...(use?.map ?? [])];
  const loaded = [...(use?.load ?? [])];

  if (!ctx.verdicts.enabled) {
    return {
      status: "under_investigation",
      confidence: "low",
      reason: `Runtime verdicts are part of the ${ctx.verdicts.unlockTier} tier; usage was recorded (${usageWords(f)}) but no verdict is issued on this tier.`,
      evidence_files: cap([...ran, ...loaded, ...(use?.open ?? [])]),
    };
  }

  // Rule 1: code of the package ran (exec, or an executable mapping of a file only it owns).
  if (ran.length > 0) {
    const exe = use!.exec.size > 0 ? first(use!.exec) : "";
    const how = use!.implied.get(exe);
    const verb = exe ? `executed ${exe}${how ? ` (${how})` : ""}` : `mapped ${first(use!.map)} executable`;
    return {
      status: "affected",
      confidence: "high",
      reason: `${label}: ${verb}${ran.length > 1 ? ` (+${ran.length - 1} more files)` : ""} during the traced run.`,
      evidence_files: cap(ran),
      proof: verb,
    };
  }
  // Rule 2: an interpreter loaded the package's source or bytecode.
  if (loaded.length > 0) {
    return {
      status: "affected",
      confidence: "medium",
      reason: `${label}: the interpreter loaded ${loaded[0]}${loaded.length > 1 ? ` (+${loaded.length - 1} more files)` : ""} during the traced run.`,
      evidence_files: cap(loaded),
      proof: `loaded ${loaded[0]}`,
    };
  }
  // Rule 3: the package's complete file list, and none of it is in the image's own path list.
  if (f.present === false && pkg.fileEvidence === "owned") {
    const n = pkg.files.length + pkg.dirs.length;
    return {
      status: "not_affected",
      justification: "component_not_present",
      impact_statement: `None of the ${n} files the SBOM lists for ${label} exist in the image (e.g. ${f.missing[0] ?? "?"}).`,
      confidence: "high",
      reason: `${label} is listed in the SBOM but none of its files are in the image.`,
      evidence_files: cap(f.missing),
    };
  }
  // Rule 4: everything that makes an absence of use meaningless.
  const blockers = blockersFor(f, ctx);
  if (blockers.length > 0) {
    return {
      status: "under_investigation",
      confidence: "low",
      reason: `${label}: ${blockers.join("; ")}.`,
      evidence_files: cap([...(use?.ambiguous.keys() ?? []), ...(use?.open ?? [])]),
    };
  }
  // Rule 5: a complete, healthy, exercised run never touched any of the package's files.
  const trace = ctx.trace!;
  const weaker = weakerEvidence(pkg, ctx);
  if (ctx.policy === "strict" && weaker.length > 0) {
    return {
      status: "under_investigation",
      confidence: "low",
      reason: `${label}: no file of the package was touched, but the strict policy issues not_affected only at high confidence, and ${weaker.join("; ")}.`,
      evidence_files: [],
    };
  }
  return {
    status: "not_affected",
    justification: "vulnerable_code_not_in_execute_path",
    impact_statement: `${scopeWords(pkg)} executed, mapped or opened during ${runWords(trace.duration_ms)} (traced from the first exec, no events lost) in which the application was healthy and exercised${healthNotes(ctx.health)}.`,
    confidence: weaker.length === 0 ? "high" : "medium",
    reason: `${label}: no file of the package was touched during a complete trace of a healthy, exercised run${weaker.length ? ` (medium confidence: ${weaker.join("; ")})` : ""}.`,
    evidence_files: cap([...pkg.files, ...pkg.dirs]),
  };
}

/** Why an absence claim that passed every blocker is still not of the highest confidence. */
function weakerEvidence(pkg: InventoryPackage, ctx: RunContext): string[] {
  const w: string[] = [];
  if (pkg.fileEvidence !== "owned") w.push("the package is known by the archive or binary it sits in, not by an installed-file list");
  if (!ctx.imageRead) w.push("the image's executables were not read, so kernel-loaded code was judged conservatively");
  if (ctx.trace?.source === "kubescape") w.push("the trace is a Kubescape profile, which records no memory mappings and no results");
  if (ctx.health.exercised_by !== "test_script") w.push("the application was exercised by probes, not by a passing test script");
  return w;
}

function blockersFor(f: PackageFacts, ctx: RunContext): string[] {
  const { pkg, use } = f;
  const b: string[] = [];
  if (use && use.ambiguous.size > 0) {
    const [path, kind] = use.ambiguous.entries().next().value as [string, string];
    b.push(`${path} was ${kindWords(kind)} but other packages list the same file, so whose code ran cannot be told`);
  }
  b.push(...f.doubts);
  if (pkg.files.length === 0 && pkg.dirs.length === 0) {
    b.push("the SBOM lists no files for this package (a meta-package, or an SBOM without file data), so its use cannot be observed");
  } else if (pkg.fileEvidence === "manifest") {
    b.push(`the SBOM lists only the package's metadata (${pkg.files[0]}), not its installed files`);
  } else if (pkg.fileEvidence === "location") {
    b.push(
      `the SBOM names only where the package was found (${pkg.files[0]}), not its installed files; a binary or archive that bundles components (Go modules, jars) cannot be split by file access`,
    );
  } else if (pkg.fileEvidence === "owned" && f.sharedFileCount > 0 && f.sharedFileCount === pkg.files.length && pkg.dirs.length === 0) {
    b.push(`all ${pkg.files.length} of its files are also listed by other packages`);
  }
  const t = ctx.trace;
  if (t === null) b.push("no runtime trace was recorded");
  else {
    if (!t.complete) b.push("the trace is incomplete (the tracer lost events or stopped early)");
    if (!t.from_first_exec) b.push("tracing began after the container started, so earlier activity was not observed");
    if (!t.execs.some((e) => e.ok)) b.push("the trace recorded no successful exec, so it did not watch the application start");
    const scriptMs = ctx.health.script_ms ?? 0;
    if (t.duration_ms > 0 && scriptMs > t.duration_ms) {
      b.push(`the trace (${seconds(t.duration_ms)}) is shorter than the test script's own run (${seconds(scriptMs)})`);
    }
  }
  if (ctx.health.main_exited_early) b.push("the application's main process exited before the test script finished");
  if (!ctx.health.healthy) b.push("the application was not healthy during the run");
  if (!ctx.health.exercised) b.push("the application was not exercised (no passing test script or answered probes)");
  const opened = use ? [...use.open].filter((p) => !use.ambiguous.has(p)) : [];
  if (opened.length > 0) {
    b.push(`${opened.length} of its files ${opened.length === 1 ? "was" : "were"} opened (e.g. ${opened[0]}) but none executed or mapped executable; reading a file as data does not show whether its code is used`);
  }
  return b;
}

function usageWords(f: PackageFacts): string {
  const u = f.use;
  if (!u) return f.pkg.files.length + f.pkg.dirs.length === 0 ? "no files known" : "no file touched";
  const parts: string[] = [];
  if (u.exec.size) parts.push(`${u.exec.size} executed`);
  if (u.map.size) parts.push(`${u.map.size} mapped`);
  if (u.load.size) parts.push(`${u.load.size} loaded`);
  if (u.ambiguous.size) parts.push(`${u.ambiguous.size} shared files used`);
  const opened = u.open.size - u.ambiguous.size;
  if (opened > 0) parts.push(`${opened} opened`);
  return parts.join(", ") || "no file touched";
}

/** Subject and verb of the not_affected impact statement, e.g. "None of the 12 files of zlib 1.2.13-r0 were". */
function scopeWords(pkg: InventoryPackage): string {
  const label = `${pkg.name} ${pkg.version}`;
  if (pkg.dirs.length > 0 && pkg.files.length === 0) return `None of the files under ${pkg.dirs[0]}/ (${label}) were`;
  const n = pkg.files.length + pkg.dirs.length;
  return n === 1 ? `The only file of ${label} (${pkg.files[0] ?? pkg.dirs[0]}) was not` : `None of the ${n} files of ${label} were`;
}

function kindWords(kind: string): string {
  return kind === "exec" ? "executed" : kind === "map" ? "mapped executable" : "loaded";
}

function healthNotes(h: RunHealth): string {
  return h.notes.length > 0 ? ` (${h.notes.join("; ")})` : "";
}

/** "a 42 s traced run"; tracers that keep no clock (Kubescape profiles) report 0. */
function runWords(ms: number): string {
  if (ms <= 0) return "the traced run";
  const s = ms / 1000;
  return `a ${s >= 10 ? Math.round(s) : Math.round(s * 10) / 10} s traced run`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function first(s: Set<string>): string {
  return s.values().next().value ?? "";
}

function cap(paths: string[]): string[] {
  return [...new Set(paths)].slice(0, EVIDENCE_CAP);
}

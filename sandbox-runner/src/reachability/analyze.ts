/**
 * analyzeReachability: inventory + vulnerabilities + trace + run health → ReachabilityReport.
 * Pure: no I/O, no clock, no randomness; the same input always gives the same report.
 */
import type { RunHealth, RuntimeTrace } from "../trace/types.js";
import { decidePackage, type PackageFacts, type PackageVerdict, type RunContext } from "./decide.js";
import { doubtsFromUsage, doubtsFromWildcards } from "./doubts.js";
import { OwnershipIndex } from "./ownership.js";
import { SymlinkResolver, dirname, normalisePath } from "./paths.js";
import { ecosystemOf, packageIdentity } from "./purl.js";
import type {
  Decision,
  ExecutableInfo,
  InventoryPackage,
  PackageInventory,
  PackageUsage,
  PathSample,
  ReachabilityReport,
  UsageState,
  VexPolicy,
  VulnerabilityMatch,
} from "./types.js";
import { usageFromTrace, type PackageUse, type TraceUsage } from "./usage.js";

export interface AnalyzeInput {
  inventory: PackageInventory;
  vulnerabilities: VulnerabilityMatch[];
  trace: RuntimeTrace | null;
  health: RunHealth;
  /** Every path in the image itself (never an SBOM's list): needed for component_not_present. */
  imagePaths?: Set<string>;
  /** The image's symlinks: link → target as stored. */
  symlinks?: Map<string, string>;
  /**
   * The image's executable files (ELF interpreter, #! line), read from the image. Without them,
   * every exec is assumed to have run some loader or interpreter, and no package that ships one
   * gets an absence claim.
   */
  executables?: Map<string, ExecutableInfo>;
  verdicts: { enabled: boolean; unlockTier: string };
  /** "strict": not_affected only at high confidence. Default "standard". */
  policy?: VexPolicy;
}

const SAMPLE = 20;

export function analyzeReachability(input: AnalyzeInput): ReachabilityReport {
  const { inventory, trace, health, verdicts } = input;
  const packages = inventory.packages;
  const resolver = new SymlinkResolver(input.symlinks);
  const index = new OwnershipIndex(packages, resolver);
  const usage: TraceUsage | null = trace
    ? usageFromTrace(trace, index, { ...(input.executables ? { executables: input.executables } : {}), ...(input.imagePaths ? { imagePaths: input.imagePaths } : {}) })
    : null;
  const doubts = usage ? doubtsFromUsage(usage, index, packages) : new Map<number, string[]>();
  if (trace?.collapsed_paths?.length) doubtsFromWildcards(trace.collapsed_paths, index, doubts);
  const presence = presenceChecker(input.imagePaths, input.symlinks, resolver);
  const ctx: RunContext = { trace, health, verdicts, imageRead: input.executables !== undefined, policy: input.policy ?? "standard" };

  const facts: PackageFacts[] = packages.map((pkg, i) => {
    const p = presence ? presence(pkg) : { present: null, missing: [] };
    return {
      pkg,
      use: usage?.byPackage.get(i),
      sharedFileCount: index.sharedCount[i] ?? 0,
      present: p.present,
      missing: p.missing,
      doubts: doubts.get(i) ?? [],
    };
  });
  const verdictCache = new Map<number, PackageVerdict>();
  const verdictOf = (i: number) => {
    let v = verdictCache.get(i);
    if (!v) verdictCache.set(i, (v = decidePackage(facts[i]!, ctx)));
    return v;
  };

  const finder = packageFinder(packages);
  const decisions: Decision[] = [];
  const seen = new Set<string>();
  let unmatched = 0;
  for (const v of input.vulnerabilities) {
    const hits = finder(v);
    if (hits.length === 0) {
      unmatched++;
      const k = `${v.id}\u0000?${v.package.name}\u0000${v.package.version}`;
      if (seen.has(k)) continue;
      seen.add(k);
      decisions.push(unmatchedDecision(v, verdicts));
      continue;
    }
    for (const i of hits) {
      const k = `${v.id}\u0000${i}`;
      if (seen.has(k)) continue;
      seen.add(k);
      decisions.push(decisionFor(v, packages[i]!, verdictOf(i)));
    }
  }

  const usages = facts.map((f, i) => packageUsage(f, index.sharedCount[i] ?? 0));
  return {
    schema: "vexxy.reachability/v1",
    verdicts: {
      enabled: verdicts.enabled,
      unlock_tier: verdicts.unlockTier,
      ...(verdicts.enabled
        ? {}
        : { message: `Runtime verdicts (affected / not_affected) need the ${verdicts.unlockTier} tier; every statement is under_investigation and package usage is reported as observed.` }),
    },
    inventory_formats: inventory.formats,
    evidence: {
      trace_source: trace?.source ?? null,
      from_first_exec: trace?.from_first_exec ?? false,
      complete: trace?.complete ?? false,
      duration_ms: trace?.duration_ms ?? 0,
      healthy: health.healthy,
      exercised: health.exercised,
      health_notes: health.notes,
      events: { execs: trace?.execs.length ?? 0, opens: trace?.opens.length ?? 0, mmaps: trace?.mmaps.length ?? 0 },
      unowned_paths: { count: usage?.unownedCount ?? 0, paths: [...(usage?.unowned ?? [])] },
      unexplained_code: {
        count: usage?.unexplained.length ?? 0,
        paths: (usage?.unexplained ?? []).slice(0, SAMPLE).map((u) => ({ path: u.path ?? null, reported: u.reported, kind: u.kind, why: u.why })),
      },
      image_read: input.executables !== undefined,
      policy: ctx.policy,
    },
    packages: usages,
    decisions,
    summary: summarise(usages, decisions, input.vulnerabilities.length),
    notes: notesFor(input, usages, unmatched, usage),
  };
}

/**
 * Scanner result → inventory packages, by identity: ecosystem, namespace where it is part of the
 * name (npm scope, Maven groupId, Go module path), name and version — never across ecosystems. A
 * result that names no ecosystem at all matches only a package that is unique by name and version.
 */
function packageFinder(packages: InventoryPackage[]): (v: VulnerabilityMatch) => number[] {
  const byKey = new Map<string, number>();
  const byNameVersion = new Map<string, number[]>();
  packages.forEach((p, i) => {
    if (!byKey.has(p.key)) byKey.set(p.key, i);
    const nv = `${p.name.toLowerCase()}\u0000${p.version}`;
    const l = byNameVersion.get(nv);
    if (l) l.push(i);
    else byNameVersion.set(nv, [i]);
  });
  return (v) => {
    const known = v.package.purl !== undefined || v.package.ecosystem !== undefined;
    if (known) {
      const hit = byKey.get(packageIdentity({ ecosystem: v.package.ecosystem, name: v.package.name, version: v.package.version, purl: v.package.purl }));
      return hit === undefined ? [] : [hit];
    }
    const same = byNameVersion.get(`${v.package.name.toLowerCase()}\u0000${v.package.version}`) ?? [];
    return same.length === 1 ? same : [];
  };
}

function decisionFor(v: VulnerabilityMatch, pkg: InventoryPackage, verdict: PackageVerdict): Decision {
  const d: Decision = {
    vulnerability: { id: v.id, aliases: v.aliases, ...(v.severity ? { severity: v.severity } : {}) },
    package: { key: pkg.key, name: pkg.name, version: pkg.version, ecosystem: pkg.ecosystem, ...(pkg.purl ?? v.package.purl ? { purl: pkg.purl ?? v.package.purl } : {}) },
    status: verdict.status,
    confidence: verdict.confidence,
    evidence_files: verdict.evidence_files,
    reason: verdict.reason,
    fix_versions: v.fixVersions,
  };
  if (verdict.justification) d.justification = verdict.justification;
  if (verdict.impact_statement) d.impact_statement = verdict.impact_statement;
  if (verdict.status === "affected") d.action_statement = actionStatement(v, pkg, verdict.proof ?? "its code ran");
  return d;
}

function actionStatement(v: VulnerabilityMatch, pkg: InventoryPackage, proof: string): string {
  const ran = `its code ran during the traced run (${proof})`;
  if (v.fixVersions.length > 0) return `Upgrade ${pkg.name} to ${v.fixVersions[0]} or later; ${ran}.`;
  if (v.fixState === "wont-fix") {
    return `No fix will be published for ${pkg.name} ${pkg.version}; ${ran}. Replace the package, or limit exposure of the affected functionality.`;
  }
  return `No fixed version of ${pkg.name} is known yet; ${ran}. Watch for an update and limit exposure of the affected functionality meanwhile.`;
}

function unmatchedDecision(v: VulnerabilityMatch, verdicts: AnalyzeInput["verdicts"]): Decision {
  const label = `${v.package.name} ${v.package.version}`;
  return {
    vulnerability: { id: v.id, aliases: v.aliases, ...(v.severity ? { severity: v.severity } : {}) },
    package: {
      key: null,
      name: v.package.name,
      version: v.package.version,
      ecosystem: ecosystemOf(v.package.ecosystem, v.package.purl),
      ...(v.package.purl ? { purl: v.package.purl } : {}),
    },
    status: "under_investigation",
    confidence: "low",
    evidence_files: [],
    reason: verdicts.enabled
      ? `${label} is not in the SBOM inventory, so which files are its own is unknown.`
      : `Runtime verdicts are part of the ${verdicts.unlockTier} tier; ${label} is also not in the SBOM inventory.`,
    fix_versions: v.fixVersions,
  };
}

type Presence = (pkg: InventoryPackage) => { present: boolean | null; missing: string[] };

/** With the image's path list, a package none of whose files exist is not present at all. */
function presenceChecker(
  imagePaths: Set<string> | undefined,
  symlinks: Map<string, string> | undefined,
  resolver: SymlinkResolver,
): Presence | null {
  if (!imagePaths || imagePaths.size === 0) return null;
  const canonical = new Set<string>();
  for (const p of imagePaths) canonical.add(resolver.dir(p));
  for (const p of symlinks?.keys() ?? []) canonical.add(resolver.dir(p));
  let dirs: Set<string> | null = null;
  const exists = (f: string) => canonical.has(resolver.dir(f)) || canonical.has(resolver.full(f));
  return (pkg) => {
    if (pkg.fileEvidence !== "owned" || (pkg.files.length === 0 && pkg.dirs.length === 0)) return { present: null, missing: [] };
    const missing: string[] = [];
    for (const f of pkg.files) {
      if (exists(f)) return { present: true, missing: [] };
      if (missing.length < SAMPLE) missing.push(f);
    }
    if (pkg.dirs.length > 0) {
      if (!dirs) {
        dirs = new Set();
        for (const p of canonical) for (let d = dirname(p); d !== "/" && !dirs.has(d); d = dirname(d)) dirs.add(d);
      }
      for (const d of pkg.dirs) {
        if (dirs.has(resolver.full(d)) || canonical.has(resolver.full(d))) return { present: true, missing: [] };
        if (missing.length < SAMPLE) missing.push(normalisePath(d));
      }
    }
    return { present: false, missing };
  };
}

function packageUsage(f: PackageFacts, shared: number): PackageUsage {
  const { pkg, use } = f;
  return {
    key: pkg.key,
    name: pkg.name,
    version: pkg.version,
    ecosystem: pkg.ecosystem,
    ...(pkg.purl ? { purl: pkg.purl } : {}),
    file_evidence: pkg.fileEvidence,
    file_count: pkg.files.length,
    dir_count: pkg.dirs.length,
    shared_file_count: shared,
    present_in_image: f.present,
    state: stateOf(pkg, use),
    executed: sample(use?.exec),
    mapped: sample(use?.map),
    loaded: sample(use?.load),
    opened: sample(use ? [...use.open].filter((p) => !use.ambiguous.has(p)) : undefined),
    ambiguous: sample(use ? [...use.ambiguous.keys()] : undefined),
  };
}

function stateOf(pkg: InventoryPackage, use: PackageUse | undefined): UsageState {
  if (pkg.files.length === 0 && pkg.dirs.length === 0) return "no_files";
  if (!use) return "untouched";
  const amb = [...use.ambiguous.values()];
  if (use.exec.size > 0 || amb.includes("exec")) return "executed";
  if (use.map.size > 0 || amb.includes("map")) return "mapped";
  if (use.load.size > 0 || amb.includes("load")) return "loaded";
  return use.open.size > 0 ? "opened" : "untouched";
}

function sample(s: Iterable<string> | undefined): PathSample {
  if (!s) return { count: 0, paths: [] };
  const all = Array.isArray(s) ? s : [...s];
  return { count: all.length, paths: all.slice(0, SAMPLE) };
}

function summarise(usages: PackageUsage[], decisions: Decision[], vulnerabilities: number): ReachabilityReport["summary"] {
  const byState: Record<UsageState, number> = { executed: 0, mapped: 0, loaded: 0, opened: 0, untouched: 0, no_files: 0 };
  for (const u of usages) byState[u.state]++;
  const count = (pred: (d: Decision) => boolean) => decisions.filter(pred).length;
  return {
    packages: usages.length,
    packages_by_state: byState,
    vulnerabilities,
    decisions: decisions.length,
    affected: count((d) => d.status === "affected"),
    not_affected: count((d) => d.status === "not_affected"),
    under_investigation: count((d) => d.status === "under_investigation"),
    component_not_present: count((d) => d.justification === "component_not_present"),
    vulnerable_code_not_in_execute_path: count((d) => d.justification === "vulnerable_code_not_in_execute_path"),
  };
}

function notesFor(input: AnalyzeInput, usages: PackageUsage[], unmatched: number, usage: TraceUsage | null): string[] {
  const notes = [...input.inventory.notes];
  const t = input.trace;
  if (!t) notes.push("No runtime trace: usage is unknown and no not_affected verdict based on execution is possible.");
  else {
    if (!t.complete) notes.push("The trace is marked incomplete (lost events or early stop): absence of use proves nothing, so no vulnerable_code_not_in_execute_path verdicts.");
    if (!t.from_first_exec) notes.push("The trace did not start at the container's first exec: absence of use proves nothing.");
    if (t.mmaps.length === 0 && t.opens.some((o) => /\.so(\.|$)/.test(o.path))) {
      notes.push("The trace records no memory mappings: shared libraries that were opened count as opened, not as mapped, so they cannot be shown affected.");
    }
  }
  if (!input.health.healthy) notes.push("The application was not healthy: no not_affected verdicts from absence of use.");
  if (!input.health.exercised) notes.push("The application was not exercised: no not_affected verdicts from absence of use.");
  const noFiles = usages.filter((u) => u.state === "no_files").length;
  if (noFiles > 0) notes.push(`${noFiles} of ${usages.length} packages have no known files; their use cannot be observed.`);
  const location = usages.filter((u) => u.file_evidence === "location" && u.file_count > 0).length;
  if (location > 0) notes.push(`${location} packages are known only by where they were found (a lock file, a package database), not by their files.`);
  const manifest = usages.filter((u) => u.file_evidence === "manifest").length;
  if (manifest > 0) notes.push(`${manifest} packages are known only by their metadata files (e.g. a dist-info METADATA), not by their installed files: no absence claims for them.`);
  if (t && !t.execs.some((e) => e.ok)) notes.push("The trace recorded no successful exec: it did not watch the application start, so absence of use proves nothing.");
  if (usage && usage.unexplained.length > 0) {
    const u = usage.unexplained[0]!;
    notes.push(`${usage.unexplained.length} executed, mapped or loaded paths are owned by no package (e.g. ${u.path ?? u.reported}: ${u.why}); packages they could belong to get no absence claim.`);
  }
  if (t && t.execs.some((e) => e.ok) && !input.executables) {
    notes.push("The image's executables were not read: the ELF loaders and #! interpreters the kernel ran are unknown, so no package that ships one gets an absence claim.");
  }
  if (usage && usage.anonymousCode > 0) notes.push(`${usage.anonymousCode} executable mappings were of anonymous memory (memfd), code written at run time by a traced process.`);
  if (t?.collapsed_paths?.length) notes.push(`The trace collapsed ${t.collapsed_paths.length} path patterns into wildcards (e.g. ${t.collapsed_paths[0]}): packages with files they match get no absence claim.`);
  if (unmatched > 0) notes.push(`${unmatched} vulnerability matches name packages that are not in the SBOM inventory.`);
  if (!input.imagePaths) notes.push("The image's path list was not given: component_not_present cannot be decided.");
  return notes;
}

/**
 * Reachability engine benchmark. Full size: 10,000 packages, 200,000 files, 100,000 trace events,
 * 5,000 vulnerability matches; also 1/10, 1/4 and 1/2 of that. Each size runs in its own child
 * process so peak RSS is that size's own. Prints a table; asserts nothing (timings vary by machine).
 *
 *   npm run bench -w sandbox-runner          (bench/run.ts calls runEngineBench)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { analyzeReachability, loadInventory, loadVulnerabilities } from "../src/reachability/index.js";
import { buildOpenVex } from "../src/vex/openvex.js";
import { SYMLINKS, syntheticGrype, syntheticSyft, syntheticTrace, type BenchSize } from "./synthetic.js";

const FULL: BenchSize = { packages: 10_000, filesPerPackage: 20, events: 100_000, vulnerabilities: 5_000 };
const FRACTIONS = [0.1, 0.25, 0.5, 1];
const TARGET_MS = 2_000;
const TARGET_MB = 500;

interface Result {
  fraction: number;
  packages: number;
  files: number;
  events: number;
  vulnerabilities: number;
  parse_ms: number;
  analyze_ms: number;
  openvex_ms: number;
  total_ms: number;
  heap_delta_mb: number;
  peak_rss_mb: number;
  decisions: number;
  statements: number;
}

function scaled(f: number): BenchSize {
  return {
    packages: Math.round(FULL.packages * f),
    filesPerPackage: FULL.filesPerPackage,
    events: Math.round(FULL.events * f),
    vulnerabilities: Math.round(FULL.vulnerabilities * f),
  };
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** One size, in this process: inputs are built first, then only the engine is timed. */
function measure(fraction: number): Result {
  const size = scaled(fraction);
  const syft = syntheticSyft(size);
  const grype = syntheticGrype(size);
  const trace = syntheticTrace(size);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const inventory = loadInventory(syft);
  const vulnerabilities = loadVulnerabilities(grype);
  const t1 = performance.now();
  const report = analyzeReachability({ inventory, vulnerabilities, trace, health: { healthy: true, exercised: true, notes: [] }, symlinks: SYMLINKS, verdicts: { enabled: true, unlockTier: "starter" } });
  const t2 = performance.now();
  const vex = buildOpenVex(report, { imageRef: "bench/app:1", imageDigest: `sha256:${"a".repeat(64)}`, author: "bench", idBase: "https://vexxy.example.com/vex", documentId: "bench" });
  const t3 = performance.now();
  const heap1 = process.memoryUsage().heapUsed;
  return {
    fraction,
    packages: size.packages,
    files: inventory.packages.reduce((n, p) => n + p.files.length, 0),
    events: trace.execs.length + trace.opens.length + trace.mmaps.length,
    vulnerabilities: vulnerabilities.length,
    parse_ms: Math.round(t1 - t0),
    analyze_ms: Math.round(t2 - t1),
    openvex_ms: Math.round(t3 - t2),
    total_ms: Math.round(t3 - t0),
    heap_delta_mb: mb(heap1 - heap0),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    decisions: report.decisions.length,
    statements: vex.statements.length,
  };
}

export function runEngineBench(): Result[] {
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  for (const f of FRACTIONS) {
    const child = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", self, "--child", String(f)], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (child.status !== 0) throw new Error(`engine bench child (${f}) failed: ${child.stderr}`);
    const line = child.stdout.trim().split("\n").pop()!;
    results.push(JSON.parse(line) as Result);
  }
  printTable(results);
  return results;
}

function printTable(rs: Result[]): void {
  const head = ["size", "packages", "files", "events", "vulns", "parse ms", "analyze ms", "openvex ms", "total ms", "heap Δ MB", "peak RSS MB", "time ×", "input ×"];
  const base = rs[0]!;
  const rows = rs.map((r) => [
    r.fraction === 1 ? "full" : `1/${Math.round(1 / r.fraction)}`,
    r.packages,
    r.files,
    r.events,
    r.vulnerabilities,
    r.parse_ms,
    r.analyze_ms,
    r.openvex_ms,
    r.total_ms,
    r.heap_delta_mb,
    r.peak_rss_mb,
    (r.total_ms / Math.max(1, base.total_ms)).toFixed(1),
    (r.fraction / base.fraction).toFixed(1),
  ].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log("\nReachability engine (loadInventory + loadVulnerabilities + analyzeReachability + buildOpenVex)");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  const full = rs.find((r) => r.fraction === 1)!;
  const okT = full.total_ms < TARGET_MS;
  const okM = full.peak_rss_mb < TARGET_MB;
  console.log(`\nfull size: ${full.total_ms} ms (target < ${TARGET_MS} ms: ${okT ? "met" : "MISSED"}), peak RSS ${full.peak_rss_mb} MB (target < ${TARGET_MB} MB: ${okM ? "met" : "MISSED"})`);
  console.log("time × / input ×: growth relative to the smallest size; equal ratios mean linear scaling.\n");
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) {
  console.log(JSON.stringify(measure(Number(process.argv[childAt + 1]))));
}

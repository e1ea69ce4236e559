/**
 * Safety properties over random inventories, traces and run health:
 * - never not_affected for a package one of whose own files was executed or mapped;
 * - never vulnerable_code_not_in_execute_path when the trace is null/incomplete/late or the run
 *   unhealthy/unexercised;
 * - never any verdict but under_investigation when verdicts are disabled.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyzeReachability, type PackageInventory, type VulnerabilityMatch } from "../../src/reachability/index.js";
import type { RuntimeTrace } from "../../src/trace/types.js";

const dirNames = ["/usr/lib", "/usr/bin", "/lib", "/opt/app", "/usr/share/x"];
const baseNames = ["a.so.1", "b", "c.py", "d.js", "e.conf", "f.so.2.0", "g"];
const allPaths = dirNames.flatMap((d) => baseNames.map((b) => `${d}/${b}`));

const arbInventory: fc.Arbitrary<PackageInventory> = fc
  .array(fc.subarray(allPaths, { minLength: 0, maxLength: 6 }), { minLength: 1, maxLength: 8 })
  .map((lists) => ({
    formats: ["synthetic"],
    notes: [],
    packages: lists.map((files, i) => ({
      key: `apk\u0000p${i}\u00001`,
      name: `p${i}`,
      version: "1",
      ecosystem: "apk",
      purl: `pkg:apk/test/p${i}@1`,
      files,
      dirs: [],
      fileEvidence: "owned" as const,
      sources: ["synthetic"],
    })),
  }));

const arbPath = fc.oneof(fc.constantFrom(...allPaths), fc.constantFrom("/proc/self/maps", "/etc/passwd", "/lib/../usr/lib/a.so.1", "//usr/bin/b"));

const arbTrace: fc.Arbitrary<RuntimeTrace | null> = fc.option(
  fc.record({
    source: fc.constant("synthetic" as const),
    from_first_exec: fc.boolean(),
    complete: fc.boolean(),
    duration_ms: fc.nat(100_000),
    execs: fc.array(fc.record({ pid: fc.nat(), path: arbPath, argv: fc.constant([]), ok: fc.boolean() }), { maxLength: 6 }),
    opens: fc.array(
      fc.record({ pid: fc.nat(), path: arbPath, flags: fc.constantFrom("O_RDONLY", "O_RDONLY|O_CLOEXEC", "O_WRONLY|O_CREAT", "O_RDONLY|O_DIRECTORY"), ok: fc.boolean() }),
      { maxLength: 6 },
    ),
    mmaps: fc.array(fc.record({ pid: fc.nat(), path: arbPath, exec: fc.boolean() }), { maxLength: 6 }),
    connections: fc.constant([]),
    syscall_counts: fc.constant({}),
  }),
  { nil: null },
);

const arbHealth = fc.record({ healthy: fc.boolean(), exercised: fc.boolean(), notes: fc.constant<string[]>([]) });

function vulnsFor(inv: PackageInventory): VulnerabilityMatch[] {
  return inv.packages.map((p) => ({ id: `CVE-${p.name}`, aliases: [], package: { name: p.name, version: p.version, ecosystem: "apk" }, fixVersions: [], fixState: "unknown", source: "grype" }));
}

/** Independent oracle: does the trace exec (ok) or PROT_EXEC-map a path only this package lists? */
function ranOwnCode(inv: PackageInventory, pkgIndex: number, t: RuntimeTrace): boolean {
  const norm = (p: string) => "/" + p.split("/").reduce<string[]>((acc, s) => (s === "" || s === "." ? acc : s === ".." ? acc.slice(0, -1) : [...acc, s]), []).join("/");
  const used = [...t.execs.filter((e) => e.ok).map((e) => norm(e.path)), ...t.mmaps.filter((m) => m.exec).map((m) => norm(m.path))];
  const own = inv.packages[pkgIndex]!.files;
  return used.some((u) => own.includes(u));
}

describe("safety properties", () => {
  it("never not_affected for a package whose files ran; never from absence without full evidence", () => {
    fc.assert(
      fc.property(arbInventory, arbTrace, arbHealth, fc.boolean(), (inventory, trace, health, enabled) => {
        const r = analyzeReachability({ inventory, vulnerabilities: vulnsFor(inventory), trace, health, verdicts: { enabled, unlockTier: "starter" } });
        const trusted = trace !== null && trace.complete && trace.from_first_exec && health.healthy && health.exercised;
        r.decisions.forEach((d) => {
          const i = inventory.packages.findIndex((p) => p.key === d.package.key);
          if (!enabled) expect(d.status).toBe("under_investigation");
          if (trace && ranOwnCode(inventory, i, trace)) expect(d.status).not.toBe("not_affected");
          if (!trusted) expect(d.justification).not.toBe("vulnerable_code_not_in_execute_path");
          if (d.status === "not_affected") expect(d.justification ?? d.impact_statement).toBeTruthy();
          if (d.status === "affected") expect(d.action_statement).toBeTruthy();
        });
      }),
      { numRuns: 400 },
    );
  });

  it("a package used by the trace is never reported untouched", () => {
    fc.assert(
      fc.property(arbInventory, arbTrace, (inventory, trace) => {
        fc.pre(trace !== null);
        const r = analyzeReachability({ inventory, vulnerabilities: [], trace, health: { healthy: true, exercised: true, notes: [] }, verdicts: { enabled: true, unlockTier: "x" } });
        r.packages.forEach((u, i) => {
          if (ranOwnCode(inventory, i, trace!)) expect(["executed", "mapped"]).toContain(u.state);
        });
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The engine on real scanner output: Syft + Grype for the same alpine 3.17 image, Syft for alpine
 * 3.12, and the CycloneDX 1.4 document Syft 0.43 wrote. Expected values are derived from the
 * fixtures in the test, never typed in from a previous run.
 */
import { describe, expect, it } from "vitest";
import {
  analyzeReachability,
  inventoryFromImageFiles,
  loadInventory,
  loadVulnerabilities,
  mergeInventories,
} from "../../src/reachability/index.js";
import { HEALTHY, ON, fixture, trace } from "./helpers.js";

type SyftDoc = { artifacts: { name: string; version: string; purl: string; metadata?: { files?: { path: string }[] } }[] };
type GrypeDoc = { matches: { vulnerability: { id: string; fix: { versions: string[] } }; artifact: { name: string } }[] };

const syft317 = fixture("syft/alpine-3.17-sbom.syft.json") as SyftDoc;
const grype317 = fixture("grype/alpine-3.17-matches.grype.json") as GrypeDoc;

describe("Syft 3.17 + Grype 3.17 (same image)", () => {
  const inventory = loadInventory(syft317);
  const vulns = loadVulnerabilities(grype317);

  it("reads every artifact and every match", () => {
    expect(inventory.packages.map((p) => p.name).sort()).toEqual(syft317.artifacts.map((a) => a.name).sort());
    expect(vulns).toHaveLength(grype317.matches.length);
    expect(inventory.formats[0]).toMatch(/^syft-json 16\./);
  });

  it("takes the package manager's file list and drops directories", () => {
    const zlib = inventory.packages.find((p) => p.name === "zlib")!;
    const listed = syft317.artifacts.find((a) => a.name === "zlib")!.metadata!.files!.map((f) => f.path);
    // "/lib" is listed too, but it is the parent of the other two: a directory, not a file.
    expect(zlib.files.sort()).toEqual(listed.filter((p) => !listed.some((q) => q.startsWith(`${p}/`))).sort());
    expect(zlib.fileEvidence).toBe("owned");
    // busybox-binsh owns the /bin/sh link, not busybox's binary (which Syft's contains relation says).
    expect(inventory.packages.find((p) => p.name === "busybox-binsh")!.files).toEqual(["/bin/sh"]);
  });

  it("matches every Grype artifact to an SBOM package despite different purl qualifiers", () => {
    const report = analyzeReachability({ inventory, vulnerabilities: vulns, trace: trace(), health: HEALTHY, verdicts: ON });
    expect(report.decisions).toHaveLength(grype317.matches.length);
    expect(report.decisions.every((d) => d.package.key !== null)).toBe(true);
  });

  it("libssl mapped → its CVEs affected with the Grype fix version; untouched libcrypto → not_affected", () => {
    const report = analyzeReachability({
      inventory,
      vulnerabilities: vulns,
      trace: trace({ map: ["/lib/libssl.so.3"], exec: ["/bin/busybox"] }),
      health: HEALTHY,
      verdicts: ON,
    });
    for (const m of grype317.matches) {
      const d = report.decisions.find((x) => x.vulnerability.id === m.vulnerability.id && x.package.name === m.artifact.name)!;
      if (m.artifact.name === "libssl3") {
        expect(d.status).toBe("affected");
        expect(d.action_statement).toContain(`Upgrade libssl3 to ${m.vulnerability.fix.versions[0]}`);
        expect(d.evidence_files).toContain("/lib/libssl.so.3");
      } else {
        expect(d.status).toBe("not_affected");
        expect(d.justification).toBe("vulnerable_code_not_in_execute_path");
        const usage = report.packages.find((p) => p.name === "libcrypto3")!;
        expect(d.impact_statement).toContain(`None of the ${usage.file_count} files of libcrypto3 3.0.8-r0`);
        expect(d.impact_statement).toContain("42 s traced run");
        expect(d.impact_statement).toContain("test script exited 0");
      }
    }
    expect(report.packages.find((p) => p.name === "busybox")!.state).toBe("executed");
    expect(report.packages.find((p) => p.name === "busybox-binsh")!.state).toBe("untouched");
  });

  it("resolves merged-usr and soname symlinks: /usr/lib/libz.so.1.2.13 is zlib's /lib/libz.so.1.2.13", () => {
    const report = analyzeReachability({
      inventory,
      vulnerabilities: [],
      trace: trace({ map: ["/usr/lib/libz.so.1.2.13", "/usr/lib/libcrypto.so.3"] }),
      health: HEALTHY,
      verdicts: ON,
      symlinks: new Map([
        ["/lib", "/usr/lib"],
        ["/usr/lib/libcrypto.so.3", "/lib/libcrypto.so.3"],
      ]),
    });
    expect(report.packages.find((p) => p.name === "zlib")!.state).toBe("mapped");
    expect(report.packages.find((p) => p.name === "libcrypto3")!.state).toBe("mapped");
    expect(report.evidence.unowned_paths.count).toBe(0);
  });

  it("the same run but unhealthy claims nothing not_affected", () => {
    const report = analyzeReachability({
      inventory,
      vulnerabilities: vulns,
      trace: trace({ map: ["/lib/libssl.so.3"] }),
      health: { healthy: false, exercised: true, notes: [] },
      verdicts: ON,
    });
    expect(report.summary.not_affected).toBe(0);
    expect(report.summary.affected).toBe(grype317.matches.filter((m) => m.artifact.name === "libssl3").length);
  });
});

describe("Syft 3.12 (schema 13, aarch64)", () => {
  const doc = fixture("syft/alpine-3.12.syft.json") as SyftDoc;
  const inventory = loadInventory(doc);

  it("reads every package with its purl and files", () => {
    expect(inventory.packages).toHaveLength(doc.artifacts.length);
    for (const a of doc.artifacts) {
      const p = inventory.packages.find((x) => x.name === a.name)!;
      expect(p.purl).toBe(a.purl);
      expect(p.ecosystem).toBe("apk");
      expect(p.files.length).toBeLessThanOrEqual(a.metadata?.files?.length ?? 0);
    }
    const zlib = doc.artifacts.find((a) => a.name === "zlib")!;
    expect(inventory.packages.find((p) => p.name === "zlib")!.files).toContain(`/lib/libz.so.${zlib.version.split("-")[0]}`);
  });
});

describe("CycloneDX 1.4 (Syft 0.43, apk packages with only the DB as location)", () => {
  const doc = fixture("cyclonedx/alpine-3.15.4.cdx.json") as { components: { type: string; name: string; version: string }[] };
  const inventory = loadInventory(doc);
  const libraries = doc.components.filter((c) => c.type === "library");

  it("reads the library components, not the operating-system one, and knows no files for them", () => {
    expect(inventory.packages.map((p) => p.name).sort()).toEqual(libraries.map((c) => c.name).sort());
    expect(inventory.packages.every((p) => p.ecosystem === "apk")).toBe(true); // pkg:alpine/ is the old spelling
    expect(inventory.packages.every((p) => p.files.length === 0)).toBe(true); // /lib/apk/db/installed is no evidence
  });

  it("no files known → under_investigation, even on a perfect run", () => {
    const zlib = libraries.find((c) => c.name === "zlib")!;
    const report = analyzeReachability({
      inventory,
      vulnerabilities: [{ id: "CVE-2022-37434", aliases: [], package: { name: "zlib", version: zlib.version, ecosystem: "apk" }, fixVersions: [], fixState: "unknown", source: "grype" }],
      trace: trace(),
      health: HEALTHY,
      verdicts: ON,
    });
    expect(report.decisions[0]!.status).toBe("under_investigation");
    expect(report.decisions[0]!.reason).toContain("no files");
  });

  it("merged with the image's apk database, zlib gains its files and can be judged", () => {
    const zlib = libraries.find((c) => c.name === "zlib")!;
    const db = `P:zlib\nV:${zlib.version}\nA:x86_64\nF:lib\nR:libz.so.1\nR:libz.so.${zlib.version.split("-")[0]}\n\n`;
    const merged = mergeInventories(inventory, inventoryFromImageFiles(new Map([["/lib/apk/db/installed", db]])));
    expect(merged.packages).toHaveLength(inventory.packages.length);
    const p = merged.packages.find((x) => x.name === "zlib")!;
    expect(p.files).toHaveLength(2);
    expect(p.sources).toEqual(["cyclonedx", "apk"]);
    const report = analyzeReachability({
      inventory: merged,
      vulnerabilities: [{ id: "CVE-2022-37434", aliases: [], package: { name: "zlib", version: zlib.version, ecosystem: "apk" }, fixVersions: [], fixState: "not-fixed", source: "grype" }],
      trace: trace({ open: ["/lib/libz.so.1"], map: [`/lib/libz.so.${zlib.version.split("-")[0]}`] }),
      health: HEALTHY,
      verdicts: ON,
    });
    expect(report.decisions[0]!.status).toBe("affected");
    expect(report.decisions[0]!.action_statement).toContain("No fixed version of zlib is known yet");
  });
});

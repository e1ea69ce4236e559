/**
 * Each decision rule on a small synthetic image: an apk database, a Go binary Syft found, a Python
 * distribution and an npm package, with traces that use some of them and not others.
 */
import { describe, expect, it } from "vitest";
import {
  analyzeReachability,
  inventoryFromImageFiles,
  loadInventory,
  mergeInventories,
  type AnalyzeInput,
  type ReachabilityReport,
  type VulnerabilityMatch,
} from "../../src/reachability/index.js";
import { HEALTHY, ON, trace } from "./helpers.js";

const APK_DB = [
  "P:app\nV:1.0-r0\nA:x86_64\nF:usr/bin\nR:app\n",
  "P:libfoo\nV:2.1-r3\nA:x86_64\nF:usr/lib\nR:libfoo.so.2\nR:libfoo.so.2.1.0\n",
  "P:tzdata\nV:2024a-r0\nA:x86_64\nF:usr/share/zoneinfo\nR:UTC\nR:Europe-Paris\n",
  "P:meta\nV:1-r0\nA:x86_64\n",
  // Two packages that list the same file (a split package whose files overlap).
  "P:tool-a\nV:1-r0\nA:x86_64\nF:usr/bin\nR:tool\n",
  "P:tool-b\nV:1-r0\nA:x86_64\nF:usr/bin\nR:tool\nR:tool-b-helper\n",
].join("\n");

const SITE = "/usr/lib/python3.11/site-packages";
const imageFiles = new Map<string, string>([
  ["/lib/apk/db/installed", APK_DB],
  [`${SITE}/requests-2.31.0.dist-info/RECORD`, `requests/__init__.py,sha256=abc,494\nrequests/api.py,sha256=def,6449\nrequests-2.31.0.dist-info/RECORD,,\n`],
  [`${SITE}/requests-2.31.0.dist-info/METADATA`, "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n\nbody"],
  ["/app/node_modules/express/package.json", JSON.stringify({ name: "express", version: "4.18.2" })],
  ["/app/node_modules/express/node_modules/debug/package.json", JSON.stringify({ name: "debug", version: "2.6.9" })],
]);

/** A Go binary as Syft reports it: modules found *in* /usr/bin/server, no file list of their own. */
const syftGo = {
  artifacts: [
    { id: "a1", name: "golang.org/x/net", version: "v0.17.0", type: "go-module", purl: "pkg:golang/golang.org/x/net@v0.17.0", locations: [{ path: "/usr/bin/server" }], metadata: {} },
    { id: "a2", name: "github.com/gin-gonic/gin", version: "v1.9.1", type: "go-module", purl: "pkg:golang/github.com/gin-gonic/gin@v1.9.1", locations: [{ path: "/usr/bin/server" }], metadata: {} },
  ],
  artifactRelationships: [],
  files: [],
  schema: { version: "16.0.0" },
};

const inventory = mergeInventories(inventoryFromImageFiles(imageFiles), loadInventory(syftGo));

function vuln(name: string, version: string, fix: string[] = ["9.9-r0"]): VulnerabilityMatch {
  return { id: `CVE-TEST-${name}`, aliases: [], package: { name, version }, fixVersions: fix, fixState: fix.length ? "fixed" : "unknown", source: "grype" };
}

const vulns: VulnerabilityMatch[] = inventory.packages.map((p) => vuln(p.name, p.version));

function run(over: Partial<AnalyzeInput>): ReachabilityReport {
  return analyzeReachability({ inventory, vulnerabilities: vulns, trace: trace(), health: HEALTHY, verdicts: ON, ...over });
}

function decision(r: ReachabilityReport, name: string) {
  const d = r.decisions.find((x) => x.package.name === name);
  if (!d) throw new Error(`no decision for ${name}`);
  return d;
}

const USE_SOME = trace({
  exec: ["/usr/bin/app", "/usr/bin/tool"],
  map: ["/usr/lib/libfoo.so.2.1.0"],
  open: ["/usr/share/zoneinfo/UTC", `${SITE}/requests/__pycache__/api.cpython-311.pyc`, "/app/node_modules/express/node_modules/debug/src/index.js"],
});

describe("decision rules", () => {
  it("inventory has what the image databases and the SBOM describe", () => {
    expect(inventory.packages.map((p) => `${p.ecosystem}:${p.name}`).sort()).toEqual(
      ["apk:app", "apk:libfoo", "apk:meta", "apk:tool-a", "apk:tool-b", "apk:tzdata", "golang:github.com/gin-gonic/gin", "golang:golang.org/x/net", "npm:debug", "npm:express", "pypi:requests"],
    );
  });

  it("executed → affected, with the fix version in the action statement", () => {
    const d = decision(run({ trace: USE_SOME }), "app");
    expect(d).toMatchObject({ status: "affected", confidence: "high", evidence_files: ["/usr/bin/app"] });
    expect(d.action_statement).toBe("Upgrade app to 9.9-r0 or later; its code ran during the traced run (executed /usr/bin/app).");
  });

  it("mapped executable (a shared library) → affected", () => {
    const d = decision(run({ trace: USE_SOME }), "libfoo");
    expect(d.status).toBe("affected");
    expect(d.reason).toContain("mapped /usr/lib/libfoo.so.2.1.0 executable");
  });

  it("untouched on a complete, healthy, exercised run → not_affected citing the evidence", () => {
    const r = run({ trace: trace({ exec: ["/usr/bin/app"] }) });
    const d = decision(r, "libfoo");
    expect(d.status).toBe("not_affected");
    expect(d.justification).toBe("vulnerable_code_not_in_execute_path");
    expect(d.impact_statement).toBe(
      "None of the 2 files of libfoo 2.1-r3 were executed, mapped or opened during a 42 s traced run (traced from the first exec, no events lost) in which the application was healthy and exercised (test script exited 0).",
    );
  });

  it("a file only opened as data → under_investigation", () => {
    const d = decision(run({ trace: USE_SOME }), "tzdata");
    expect(d.status).toBe("under_investigation");
    expect(d.reason).toContain("opened (e.g. /usr/share/zoneinfo/UTC) but none executed");
    expect(run({ trace: USE_SOME }).packages.find((p) => p.name === "tzdata")!.state).toBe("opened");
  });

  it("Python bytecode in __pycache__ counts as the module's source, loaded", () => {
    const r = run({ trace: USE_SOME });
    const d = decision(r, "requests");
    expect(d.status).toBe("affected");
    expect(d.confidence).toBe("medium");
    expect(d.evidence_files).toEqual([`${SITE}/requests/api.py`]);
  });

  it("npm: a file belongs to the deepest package directory (nested node_modules)", () => {
    const r = run({ trace: USE_SOME });
    expect(decision(r, "debug").status).toBe("affected");
    expect(decision(r, "express").status).toBe("not_affected");
    expect(decision(r, "express").impact_statement).toContain("None of the files under /app/node_modules/express/ (express 4.18.2)");
  });

  it("a shared file executed → both owners under_investigation, never affected or not_affected", () => {
    const r = run({ trace: USE_SOME });
    for (const name of ["tool-a", "tool-b"]) {
      const d = decision(r, name);
      expect(d.status).toBe("under_investigation");
      expect(d.reason).toContain("/usr/bin/tool was executed but other packages list the same file");
      expect(r.packages.find((p) => p.name === name)!.state).toBe("executed");
    }
  });

  it("a package with no files → under_investigation", () => {
    expect(decision(run({}), "meta")).toMatchObject({ status: "under_investigation" });
    expect(decision(run({}), "meta").reason).toContain("lists no files");
  });

  it("modules compiled into one binary: not_affected only while the binary never ran", () => {
    // The binary is the modules' code (file evidence "archive"): a binary that never ran ran none of it.
    const idle = run({ trace: trace({ exec: ["/usr/bin/app"] }) });
    for (const name of ["golang.org/x/net", "github.com/gin-gonic/gin"]) {
      expect(decision(idle, name)).toMatchObject({ status: "not_affected", justification: "vulnerable_code_not_in_execute_path", confidence: "medium" });
    }
    // Once it ran, which module's code ran cannot be told from file access: never affected, never not_affected.
    const ran = run({ trace: trace({ exec: ["/usr/bin/server"] }) });
    for (const name of ["golang.org/x/net", "github.com/gin-gonic/gin"]) {
      expect(decision(ran, name).status).toBe("under_investigation");
      expect(decision(ran, name).reason).toContain("/usr/bin/server was executed but other packages list the same file");
    }
  });

  it.each([
    ["no trace", { trace: null }, "no runtime trace"],
    ["incomplete trace", { trace: trace({ complete: false }) }, "trace is incomplete"],
    ["trace attached late", { trace: trace({ fromFirstExec: false }) }, "tracing began after the container started"],
    ["unhealthy app", { health: { healthy: false, exercised: true, notes: [] } }, "not healthy"],
    ["unexercised app", { health: { healthy: true, exercised: false, notes: [] } }, "not exercised"],
  ] as const)("%s → no not_affected at all", (_label, over, words) => {
    const r = run(over as Partial<AnalyzeInput>);
    expect(r.summary.not_affected).toBe(0);
    expect(decision(r, "libfoo").status).toBe("under_investigation");
    expect(decision(r, "libfoo").reason).toContain(words);
  });

  it("use is still affected on an unhealthy run (evidence of use needs no coverage)", () => {
    const r = run({ trace: USE_SOME, health: { healthy: false, exercised: false, notes: [] } });
    expect(decision(r, "app").status).toBe("affected");
  });

  it("verdicts disabled → every statement under_investigation, usage still reported, tier named", () => {
    const r = run({ trace: USE_SOME, verdicts: { enabled: false, unlockTier: "starter" } });
    expect(r.decisions.every((d) => d.status === "under_investigation")).toBe(true);
    expect(r.verdicts.message).toContain("starter");
    expect(decision(r, "app").reason).toContain("starter tier");
    expect(r.packages.find((p) => p.name === "app")!.state).toBe("executed");
    expect(r.summary.packages_by_state.executed).toBeGreaterThan(0);
  });

  it("component_not_present when the image contains none of the package's files", () => {
    const imagePaths = new Set(["/usr/bin/app", "/usr/lib/libfoo.so.2", "/usr/lib/libfoo.so.2.1.0", "/usr/bin/tool"]);
    const r = run({ trace: trace({ exec: ["/usr/bin/app"] }), imagePaths });
    const d = decision(r, "tzdata");
    expect(d).toMatchObject({ status: "not_affected", justification: "component_not_present", confidence: "high" });
    expect(d.evidence_files).toEqual(["/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/Europe-Paris"]);
    expect(decision(r, "libfoo").justification).toBe("vulnerable_code_not_in_execute_path");
    expect(r.packages.find((p) => p.name === "libfoo")!.present_in_image).toBe(true);
    // Decidable without a trace: it is a fact about the image, not about the run.
    expect(decision(run({ trace: null, imagePaths }), "tzdata").justification).toBe("component_not_present");
  });

  it("component_not_present sees through symlinks (a merged-usr image lists /usr/lib only)", () => {
    const imagePaths = new Set(["/usr/share/zoneinfo/UTC"]);
    const r = run({ imagePaths, symlinks: new Map([["/usr/share/zoneinfo", "/opt/tz"]]) });
    // /opt/tz/UTC is not listed but /usr/share/zoneinfo/UTC is: present.
    expect(decision(r, "tzdata").justification).not.toBe("component_not_present");
  });

  it("a vulnerability for a package the SBOM does not list → under_investigation", () => {
    const r = analyzeReachability({ inventory, vulnerabilities: [vuln("ghost", "1.0")], trace: trace(), health: HEALTHY, verdicts: ON });
    expect(r.decisions[0]).toMatchObject({ status: "under_investigation", package: { key: null, name: "ghost" } });
  });

  it("one decision per (vulnerability, package): duplicate matches collapse", () => {
    const r = analyzeReachability({ inventory, vulnerabilities: [vuln("app", "1.0-r0"), vuln("app", "1.0-r0")], trace: trace(), health: HEALTHY, verdicts: ON });
    expect(r.decisions).toHaveLength(1);
  });

  it("the report is plain JSON", () => {
    const r = run({ trace: USE_SOME });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

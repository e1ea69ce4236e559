/**
 * Issue #13's classes of input that must never yield not_affected, each on a small image shaped like
 * the ones people ship: a merged-/usr Debian image with a bash entrypoint, an Alpine image whose
 * service is musl-linked with busybox as /bin/sh, Trivy-style file lists, and traces that name files
 * through links, procfs or a host prefix. Every test here failed on the engine before these rules.
 */
import { describe, expect, it } from "vitest";
import {
  analyzeReachability,
  inventoryFromImageFiles,
  loadInventory,
  type AnalyzeInput,
  type ExecutableInfo,
  type PackageInventory,
  type ReachabilityReport,
  type VulnerabilityMatch,
} from "../../src/reachability/index.js";
import type { RunHealth, RuntimeTrace } from "../../src/trace/types.js";
import { HEALTHY, ON, trace } from "./helpers.js";

const LIBDIR = "/lib/x86_64-linux-gnu";

/** A bookworm image as debootstrap leaves it: merged-/usr links, and dpkg lists that still say /bin and /lib. */
const DEBIAN_DB = new Map<string, string>([
  ["/etc/os-release", 'ID=debian\nVERSION_ID="12"\n'],
  [
    "/var/lib/dpkg/status",
    ["libc6 2.36-9+deb12u4", "bash 5.2.15-2+b2", "python3.11-minimal 3.11.2-6", "mawk 1.3.4.20200120-3.1", "libsqlite3-0 3.40.1-2", "bzip2 1.0.8-5+b1", "libfoo1 1.0-1"]
      .map((pv) => {
        const [p, v] = pv.split(" ");
        return `Package: ${p}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${v}\n`;
      })
      .join("\n"),
  ],
  ["/var/lib/dpkg/info/libc6:amd64.list", `/.\n/lib\n${LIBDIR}\n${LIBDIR}/libc.so.6\n${LIBDIR}/ld-linux-x86-64.so.2\n/lib64\n/lib64/ld-linux-x86-64.so.2\n`],
  ["/var/lib/dpkg/info/bash.list", "/.\n/bin\n/bin/bash\n/usr/share/doc/bash/copyright\n"],
  ["/var/lib/dpkg/info/python3.11-minimal.list", "/.\n/usr/bin/python3.11\n/usr/share/doc/python3.11-minimal/copyright\n"],
  ["/var/lib/dpkg/info/mawk.list", "/.\n/usr/bin/mawk\n/usr/share/doc/mawk/copyright\n"],
  ["/var/lib/dpkg/info/libsqlite3-0:amd64.list", `/.\n/usr${LIBDIR}/libsqlite3.so.0.8.6\n/usr${LIBDIR}/libsqlite3.so.0\n`],
  ["/var/lib/dpkg/info/bzip2.list", "/.\n/bin/bzip2\n/usr/share/doc/bzip2/copyright\n"],
  ["/var/lib/dpkg/info/libfoo1:amd64.list", `/.\n/usr/lib/foo/libfoo.so.1\n/usr/lib/foo/plugins.conf\n`],
]);

const DEBIAN_LINKS = new Map([
  ["/bin", "usr/bin"],
  ["/lib", "usr/lib"],
  ["/lib64", "usr/lib64"],
  ["/sbin", "usr/sbin"],
  ["/usr/lib64/ld-linux-x86-64.so.2", `../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`],
  ["/usr/bin/python3", "python3.11"],
  ["/usr/bin/awk", "/etc/alternatives/awk"],
  ["/etc/alternatives/awk", "/usr/bin/mawk"],
  [`/usr${LIBDIR}/libsqlite3.so.0`, "libsqlite3.so.0.8.6"],
  ["/opt/app/lib", `/usr${LIBDIR}`],
]);

const ELF = (interpreter: string | null): ExecutableInfo => ({ kind: "elf", interpreter });
const DEBIAN_EXECUTABLES = new Map<string, ExecutableInfo>([
  ["/usr/bin/bash", ELF("/lib64/ld-linux-x86-64.so.2")],
  ["/usr/bin/python3.11", ELF("/lib64/ld-linux-x86-64.so.2")],
  ["/usr/bin/mawk", ELF("/lib64/ld-linux-x86-64.so.2")],
  ["/usr/bin/bzip2", ELF("/lib64/ld-linux-x86-64.so.2")],
  ["/usr/bin/env", ELF("/lib64/ld-linux-x86-64.so.2")],
  [`/usr${LIBDIR}/ld-linux-x86-64.so.2`, ELF(null)],
  ["/srv/entrypoint.sh", { kind: "script", interpreter: "/bin/bash" }],
  ["/srv/tool.py", { kind: "script", interpreter: "/usr/bin/env", arg: "python3" }],
]);

const debian = inventoryFromImageFiles(DEBIAN_DB);
const debianPaths = new Set([
  ...debian.packages.flatMap((p) => p.files).filter((f) => !f.startsWith("/bin/") && !f.startsWith("/lib")),
  `/usr/bin/bash`,
  `/usr/bin/bzip2`,
  `/usr${LIBDIR}/libc.so.6`,
  `/usr${LIBDIR}/ld-linux-x86-64.so.2`,
  "/usr/bin/env",
  "/srv/entrypoint.sh",
  "/srv/tool.py",
  "/srv/app.py",
]);

/** An Alpine-shaped image: musl (whose loader IS its libc) and busybox as /bin/sh. */
const ALPINE_DB = new Map<string, string>([
  ["/etc/os-release", "ID=alpine\n"],
  [
    "/lib/apk/db/installed",
    [
      "P:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n",
      "P:busybox\nV:1.36.1-r5\nA:x86_64\nF:bin\nR:busybox\n",
      "P:busybox-binsh\nV:1.36.1-r5\nA:x86_64\nF:bin\nR:sh\n",
      "P:zlib\nV:1.3-r2\nA:x86_64\nF:lib\nR:libz.so.1.3\n",
    ].join("\n"),
  ],
]);
const alpine = inventoryFromImageFiles(ALPINE_DB);
const ALPINE_LINKS = new Map([
  ["/lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"],
  ["/bin/sh", "/bin/busybox"],
]);
const ALPINE_EXECUTABLES = new Map<string, ExecutableInfo>([
  ["/bin/busybox", ELF(null)],
  ["/srv/service", ELF("/lib/ld-musl-x86_64.so.1")],
  ["/srv/entry.sh", { kind: "script", interpreter: "/bin/sh" }],
]);

function vulnsFor(inv: PackageInventory): VulnerabilityMatch[] {
  return inv.packages.map((p) => ({
    id: `CVE-TEST-${p.name}`,
    aliases: [],
    package: { name: p.name, version: p.version, ecosystem: p.ecosystem, ...(p.purl ? { purl: p.purl } : {}) },
    fixVersions: [],
    fixState: "unknown",
    source: "grype",
  }));
}

function analyze(inv: PackageInventory, t: RuntimeTrace | null, over: Partial<AnalyzeInput> = {}): ReachabilityReport {
  return analyzeReachability({ inventory: inv, vulnerabilities: vulnsFor(inv), trace: t, health: HEALTHY, verdicts: ON, ...over });
}

function statusOf(r: ReachabilityReport, name: string): string {
  const d = r.decisions.find((x) => x.package.name === name);
  if (!d) throw new Error(`no decision for ${name}`);
  return d.status;
}

function decisionOf(r: ReachabilityReport, name: string) {
  return r.decisions.find((x) => x.package.name === name)!;
}

const debianImage = { imagePaths: debianPaths, symlinks: DEBIAN_LINKS, executables: DEBIAN_EXECUTABLES };
const alpineImage = { symlinks: ALPINE_LINKS, executables: ALPINE_EXECUTABLES };

describe("1. code the kernel loads itself", () => {
  it("a #!/bin/bash entrypoint runs bash, and bash's PT_INTERP runs glibc's loader: both affected", () => {
    // What strace shows: the script's exec, then python's (bash exec'd it); never /bin/bash or ld-linux.
    const t = trace({ exec: ["/srv/entrypoint.sh", "/usr/bin/python3.11"], open: ["/srv/app.py"] });
    const r = analyze(debian, t, debianImage);
    expect(statusOf(r, "bash")).toBe("affected");
    expect(decisionOf(r, "bash").reason).toContain("#! interpreter of /srv/entrypoint.sh");
    expect(statusOf(r, "libc6")).toBe("affected");
    expect(decisionOf(r, "libc6").reason).toContain("ELF interpreter of");
    // What nothing ran stays provably unused.
    expect(decisionOf(r, "libsqlite3-0")).toMatchObject({ status: "not_affected", confidence: "high" });
    expect(statusOf(r, "bzip2")).toBe("not_affected");
  });

  it("musl's loader is musl's libc, and busybox runs every #!/bin/sh script: both affected", () => {
    const t = trace({ exec: ["/srv/entry.sh", "/srv/service"] });
    const r = analyze(alpine, t, alpineImage);
    expect(statusOf(r, "musl")).toBe("affected");
    expect(statusOf(r, "busybox")).toBe("affected");
    expect(statusOf(r, "zlib")).toBe("not_affected");
  });

  it("#!/usr/bin/env python3 runs the python3 found on PATH (through its link)", () => {
    const r = analyze(debian, trace({ exec: ["/srv/tool.py"] }), debianImage);
    expect(statusOf(r, "python3.11-minimal")).toBe("affected");
  });

  it("without the image's contents, any exec keeps every loader and interpreter package from an absence claim", () => {
    const r = analyze(alpine, trace({ exec: ["/srv/service"] }), { symlinks: ALPINE_LINKS });
    expect(statusOf(r, "musl")).toBe("under_investigation");
    expect(decisionOf(r, "musl").reason).toContain("could not be read from the image");
    expect(statusOf(r, "busybox-binsh")).toBe("under_investigation");
    expect(statusOf(r, "zlib")).toBe("not_affected");
    expect(r.notes.join(" ")).toContain("executables were not read");
  });
});

describe("2. paths resolved the way the kernel resolves them", () => {
  it("an alternatives chain leads to the package that owns the real file", () => {
    const r = analyze(debian, trace({ exec: ["/usr/bin/awk"] }), debianImage);
    expect(statusOf(r, "mawk")).toBe("affected");
  });

  it("`..` after a directory link is taken from where the link leads", () => {
    // /opt/app/lib → /usr/lib/x86_64-linux-gnu, so /opt/app/lib/../foo/libfoo.so.1 is /usr/lib/foo/libfoo.so.1.
    const r = analyze(debian, trace({ exec: ["/usr/bin/python3.11"], map: ["/opt/app/lib/../foo/libfoo.so.1"] }), debianImage);
    expect(statusOf(r, "libfoo1")).toBe("affected");
  });

  it("host-side prefixes (overlay merged, /proc/<pid>/root) are stripped", () => {
    const overlay = `/var/lib/containers/storage/overlay/${"ab".repeat(32)}/merged/usr/lib/x86_64-linux-gnu/libsqlite3.so.0`;
    const r = analyze(debian, trace({ exec: ["/usr/bin/python3.11"], map: [overlay, "/proc/4242/root/usr/lib/foo/libfoo.so.1"] }), debianImage);
    expect(statusOf(r, "libsqlite3-0")).toBe("affected");
    expect(statusOf(r, "libfoo1")).toBe("affected");
  });

  it("an exec of /proc/self/fd/N, or a relative path, is unexplained: no absence claims for anything", () => {
    for (const path of ["/proc/self/fd/3", "/proc/77/fd/5", "./service"]) {
      const r = analyze(debian, trace({ exec: ["/usr/bin/python3.11", path] }), debianImage);
      expect(r.summary.not_affected).toBe(0);
      expect(decisionOf(r, "bzip2").reason).toContain("cannot be placed in the image");
      expect(r.evidence.unexplained_code.count).toBeGreaterThan(0);
    }
  });
});

describe("3. unexplained evidence blocks absence claims", () => {
  it("unowned code in a package's directory, or under a package's file name, keeps that package from not_affected", () => {
    const r = analyze(debian, trace({ exec: ["/usr/bin/python3.11"], map: ["/usr/lib/foo/libfoo-extra.so", "/tmp/libsqlite3.so.0"] }), debianImage);
    expect(statusOf(r, "libfoo1")).toBe("under_investigation");
    expect(decisionOf(r, "libfoo1").reason).toContain("/usr/lib/foo/libfoo-extra.so was mapped executable but no package lists it");
    expect(statusOf(r, "libsqlite3-0")).toBe("under_investigation");
    expect(statusOf(r, "bzip2")).toBe("not_affected");
    expect(r.evidence.unexplained_code.paths.map((p) => p.path)).toEqual(["/usr/lib/foo/libfoo-extra.so", "/tmp/libsqlite3.so.0"]);
  });

  it("bytecode caches of other implementations and optimisation levels count as their source", () => {
    const SITE = "/usr/lib/python3/dist-packages";
    const inv = inventoryFromImageFiles(
      new Map([
        [`${SITE}/yaml-6.0.dist-info/RECORD`, "yaml/__init__.py,,\nyaml/reader.py,,\n"],
        [`${SITE}/yaml-6.0.dist-info/METADATA`, "Name: PyYAML\nVersion: 6.0\n"],
      ]),
    );
    for (const pyc of ["yaml/__pycache__/reader.pypy39.pyc", "yaml/__pycache__/reader.cpython-311.opt-1.pyc", "yaml/__pycache__/other.pypy310-pp73.pyc"]) {
      const r = analyze(inv, trace({ exec: ["/usr/bin/pypy3"], open: [`${SITE}/${pyc}`] }), { executables: new Map() });
      expect(statusOf(r, "PyYAML")).not.toBe("not_affected");
    }
  });
});

describe("4. how good each package's file list is", () => {
  // Trivy's SPDX links a Python package only to its METADATA and a Java package to its jar.
  const spdx = {
    spdxVersion: "SPDX-2.3",
    SPDXID: "SPDXRef-DOCUMENT",
    name: "app",
    packages: [
      { SPDXID: "SPDXRef-img", name: "app", primaryPackagePurpose: "CONTAINER" },
      { SPDXID: "SPDXRef-py", name: "requests", versionInfo: "2.31.0", externalRefs: [{ referenceType: "purl", referenceLocator: "pkg:pypi/requests@2.31.0" }] },
      { SPDXID: "SPDXRef-used", name: "guava", versionInfo: "32.0.0", externalRefs: [{ referenceType: "purl", referenceLocator: "pkg:maven/com.google.guava/guava@32.0.0" }] },
      { SPDXID: "SPDXRef-idle", name: "commons-text", versionInfo: "1.9", externalRefs: [{ referenceType: "purl", referenceLocator: "pkg:maven/org.apache.commons/commons-text@1.9" }] },
      { SPDXID: "SPDXRef-nested", name: "snakeyaml", versionInfo: "1.33", externalRefs: [{ referenceType: "purl", referenceLocator: "pkg:maven/org.yaml/snakeyaml@1.33" }] },
    ],
    files: [
      { SPDXID: "SPDXRef-f1", fileName: "/usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA" },
      { SPDXID: "SPDXRef-f2", fileName: "/app/lib/guava-32.0.0.jar" },
      { SPDXID: "SPDXRef-f3", fileName: "/app/lib/commons-text-1.9.jar" },
      { SPDXID: "SPDXRef-f4", fileName: "/app/app.jar" },
    ],
    relationships: [
      { spdxElementId: "SPDXRef-DOCUMENT", relationshipType: "DESCRIBES", relatedSpdxElement: "SPDXRef-img" },
      { spdxElementId: "SPDXRef-py", relationshipType: "CONTAINS", relatedSpdxElement: "SPDXRef-f1" },
      { spdxElementId: "SPDXRef-used", relationshipType: "CONTAINS", relatedSpdxElement: "SPDXRef-f2" },
      { spdxElementId: "SPDXRef-idle", relationshipType: "CONTAINS", relatedSpdxElement: "SPDXRef-f3" },
      { spdxElementId: "SPDXRef-nested", relationshipType: "CONTAINS", relatedSpdxElement: "SPDXRef-f4" },
    ],
  };
  const inv = loadInventory(spdx);
  const javaRun = trace({ exec: ["/usr/bin/java"], open: ["/app/app.jar", "/app/lib/guava-32.0.0.jar"] });

  it("tells apart installed lists, archives and manifests", () => {
    const ev = Object.fromEntries(inv.packages.map((p) => [p.name, p.fileEvidence]));
    expect(ev).toEqual({ requests: "manifest", guava: "archive", "commons-text": "archive", snakeyaml: "archive" });
  });

  it("a package known only by its METADATA gets no absence claim, not even component_not_present", () => {
    const r = analyze(inv, javaRun, { executables: new Map(), imagePaths: new Set(["/app/app.jar"]) });
    expect(decisionOf(r, "requests")).toMatchObject({ status: "under_investigation" });
    expect(decisionOf(r, "requests").reason).toContain("only the package's metadata");
  });

  it("a component whose archive a process opened is used; one whose archive nothing opened is not", () => {
    const r = analyze(inv, javaRun, { executables: new Map() });
    expect(statusOf(r, "guava")).toBe("under_investigation");
    expect(statusOf(r, "snakeyaml")).toBe("under_investigation"); // inside /app/app.jar, which was opened
    expect(decisionOf(r, "commons-text")).toMatchObject({ status: "not_affected", confidence: "medium" });
  });

  it("Syft's nested-jar spelling (outer.jar:BOOT-INF/lib/x.jar) is the outer archive", () => {
    const syft = {
      schema: { version: "16.0.0" },
      artifactRelationships: [],
      files: [],
      artifacts: [
        { id: "n", name: "snakeyaml", version: "1.33", type: "java-archive", purl: "pkg:maven/org.yaml/snakeyaml@1.33", locations: [{ path: "/app/app.jar:BOOT-INF/lib/snakeyaml-1.33.jar" }], metadata: {} },
      ],
    };
    const p = loadInventory(syft).packages[0]!;
    expect(p).toMatchObject({ fileEvidence: "archive", files: ["/app/app.jar"] });
  });
});

describe("5. identity", () => {
  const inv = inventoryFromImageFiles(
    new Map([
      ["/app/node_modules/requests/package.json", JSON.stringify({ name: "requests", version: "2.31.0" })],
      ["/app/node_modules/@acme/utils/package.json", JSON.stringify({ name: "@acme/utils", version: "1.0.0" })],
    ]),
  );
  const match = (pkg: VulnerabilityMatch["package"]): VulnerabilityMatch => ({ id: "CVE-X", aliases: [], package: pkg, fixVersions: [], fixState: "unknown", source: "grype" });

  it("a PyPI advisory never lands on an npm package of the same name and version", () => {
    const r = analyzeReachability({
      inventory: inv,
      vulnerabilities: [match({ name: "requests", version: "2.31.0", ecosystem: "python", purl: "pkg:pypi/requests@2.31.0" })],
      trace: trace({ exec: ["/usr/bin/node"] }),
      health: HEALTHY,
      verdicts: ON,
    });
    expect(r.decisions[0]!.package.key).toBeNull();
    expect(r.decisions[0]!.status).toBe("under_investigation");
  });

  it("npm scopes and Maven groupIds stay distinct", () => {
    const other = match({ name: "@other/utils", version: "1.0.0", purl: "pkg:npm/%40other/utils@1.0.0" });
    const same = match({ name: "@acme/utils", version: "1.0.0", purl: "pkg:npm/%40acme/utils@1.0.0" });
    const r = analyzeReachability({ inventory: inv, vulnerabilities: [other, same], trace: null, health: HEALTHY, verdicts: ON });
    expect(r.decisions.map((d) => d.package.key !== null)).toEqual([false, true]);

    const maven = loadInventory({
      schema: { version: "16.0.0" },
      artifactRelationships: [],
      files: [],
      artifacts: [
        { id: "a", name: "utils", version: "1.0", type: "java-archive", purl: "pkg:maven/org.a/utils@1.0", locations: [{ path: "/app/a-utils.jar" }], metadata: {} },
        { id: "b", name: "utils", version: "1.0", type: "java-archive", purl: "pkg:maven/org.b/utils@1.0", locations: [{ path: "/app/b-utils.jar" }], metadata: {} },
      ],
    });
    expect(maven.packages).toHaveLength(2);
    const rm = analyzeReachability({
      inventory: maven,
      vulnerabilities: [match({ name: "utils", version: "1.0", purl: "pkg:maven/org.b/utils@1.0" })],
      trace: trace({ exec: ["/usr/bin/java"], open: ["/app/b-utils.jar"] }),
      health: HEALTHY,
      verdicts: ON,
      executables: new Map(),
    });
    expect(rm.decisions).toHaveLength(1);
    expect(rm.decisions[0]!.evidence_files).toEqual(["/app/b-utils.jar"]);
  });
});

describe("6. a trace must earn complete", () => {
  const used = trace({ exec: ["/usr/bin/python3.11"] });

  it("no successful exec → no absence claims", () => {
    const t = trace({ map: [`${LIBDIR}/libc.so.6`] });
    t.execs.push({ pid: 1, path: "/usr/bin/python3.11", argv: [], ok: false });
    const r = analyze(debian, t, debianImage);
    expect(r.summary.not_affected).toBe(0);
    expect(decisionOf(r, "bzip2").reason).toContain("no successful exec");
  });

  it("a trace shorter than the test script's own run → no absence claims", () => {
    const health: RunHealth = { ...HEALTHY, script_ms: 60_000 };
    const r = analyze(debian, { ...used, duration_ms: 42_000 }, { ...debianImage, health });
    expect(r.summary.not_affected).toBe(0);
    expect(decisionOf(r, "bzip2").reason).toContain("shorter than the test script");
  });

  it("a main process that exited before the test script finished → no absence claims", () => {
    const r = analyze(debian, used, { ...debianImage, health: { ...HEALTHY, main_exited_early: true } });
    expect(r.summary.not_affected).toBe(0);
  });

  it("collapsed Kubescape paths block every package they could cover", () => {
    const t: RuntimeTrace = { ...used, collapsed_paths: ["/lib/x86_64-linux-gnu/⋯", "/usr/lib/foo/*.so.1"] };
    const r = analyze(debian, t, debianImage);
    expect(statusOf(r, "libsqlite3-0")).toBe("under_investigation"); // /usr/lib/x86_64-linux-gnu through the /lib link
    expect(decisionOf(r, "libfoo1").reason).toContain("collapsed paths into /usr/lib/foo/*.so.1");
    expect(statusOf(r, "bzip2")).toBe("not_affected");
  });
});

describe("7. component_not_present only from the image's own list and a complete file list", () => {
  it("a manifest-only or archive package missing from the image is not called component_not_present", () => {
    const inv = loadInventory({
      schema: { version: "16.0.0" },
      artifactRelationships: [],
      files: [],
      artifacts: [
        { id: "p", name: "requests", version: "2.31.0", type: "python", purl: "pkg:pypi/requests@2.31.0", locations: [{ path: "/usr/lib/python3/site-packages/requests-2.31.0.dist-info/METADATA" }], metadata: {} },
        { id: "j", name: "guava", version: "32.0.0", type: "java-archive", purl: "pkg:maven/com.google.guava/guava@32.0.0", locations: [{ path: "/app/guava.jar" }], metadata: {} },
      ],
    });
    const r = analyze(inv, null, { imagePaths: new Set(["/etc/hostname"]) });
    expect(r.summary.component_not_present).toBe(0);
  });

  it("a package with a complete list none of which is in the image is component_not_present", () => {
    const r = analyze(debian, trace({ exec: ["/usr/bin/python3.11"] }), { ...debianImage, imagePaths: new Set(["/usr/bin/python3.11"]) });
    expect(decisionOf(r, "bzip2")).toMatchObject({ status: "not_affected", justification: "component_not_present" });
  });
});

describe("8. confidence and the strict policy", () => {
  it("each decision carries its confidence; strict keeps only high-confidence not_affected", () => {
    const probesOnly: RunHealth = { healthy: true, exercised: true, exercised_by: "probes", notes: [] };
    const t = trace({ exec: ["/srv/entrypoint.sh", "/usr/bin/python3.11"] });
    const standard = analyze(debian, t, { ...debianImage, health: probesOnly });
    expect(decisionOf(standard, "bzip2")).toMatchObject({ status: "not_affected", confidence: "medium" });
    const strict = analyze(debian, t, { ...debianImage, health: probesOnly, policy: "strict" });
    expect(decisionOf(strict, "bzip2").status).toBe("under_investigation");
    expect(decisionOf(strict, "bzip2").reason).toContain("strict policy");
    expect(strict.evidence.policy).toBe("strict");
    // A passing test script, an installed-file list and the image read: high, kept under strict.
    const best = analyze(debian, t, { ...debianImage, health: { ...HEALTHY, exercised_by: "test_script" }, policy: "strict" });
    expect(decisionOf(best, "bzip2")).toMatchObject({ status: "not_affected", confidence: "high" });
  });
});

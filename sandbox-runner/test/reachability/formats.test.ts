/**
 * SPDX 2.3 and Trivy JSON (samples written from the format specs, in ./samples), CycloneDX
 * vulnerabilities, and the errors for documents the engine cannot read.
 */
import { describe, expect, it } from "vitest";
import {
  InputFormatError,
  analyzeReachability,
  loadInventory,
  loadVulnerabilities,
  parsePurl,
} from "../../src/reachability/index.js";
import { HEALTHY, ON, fixture, sample, trace } from "./helpers.js";

describe("SPDX 2.3 JSON", () => {
  const inv = loadInventory(sample("debian-spdx-2.3.json"));

  it("reads the packages, not the image the document describes", () => {
    expect(inv.formats).toEqual(["spdx-json SPDX-2.3"]);
    expect(inv.packages.map((p) => p.name).sort()).toEqual(["libssl3", "tzdata", "zlib1g"]);
    expect(inv.packages.every((p) => p.ecosystem === "deb")).toBe(true);
  });

  it("CONTAINS and CONTAINED_BY give files; OTHER (evident-by) does not", () => {
    const by = (n: string) => inv.packages.find((p) => p.name === n)!;
    expect(by("zlib1g").files.sort()).toEqual(["/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "/usr/share/doc/zlib1g/copyright"]);
    expect(by("libssl3").files).toEqual(["/usr/lib/x86_64-linux-gnu/libssl.so.3"]);
    expect(by("zlib1g").version).toBe("1:1.2.13.dfsg-1");
  });

  it("joins with Trivy results (epoch as a purl qualifier) and decides", () => {
    const vulns = loadVulnerabilities(sample("debian-trivy.json"));
    const r = analyzeReachability({
      inventory: inv,
      vulnerabilities: vulns,
      trace: trace({ exec: ["/srv/app"], map: ["/usr/lib/x86_64-linux-gnu/libssl.so.3"] }),
      health: HEALTHY,
      verdicts: ON,
    });
    const zlib = r.decisions.find((d) => d.vulnerability.id === "CVE-2023-45853")!;
    expect(zlib.package.key).not.toBeNull();
    expect(zlib.status).toBe("not_affected");
    const ssl = r.decisions.find((d) => d.vulnerability.id === "CVE-2024-0727")!;
    expect(ssl.status).toBe("affected");
    expect(ssl.action_statement).toContain("Upgrade libssl3 to 3.0.13-1~deb12u1");
    // requests is not in this SBOM: under_investigation, not silently dropped.
    expect(r.decisions.find((d) => d.vulnerability.id === "CVE-2024-35195")).toMatchObject({ status: "under_investigation", package: { key: null } });
  });
});

describe("Trivy JSON", () => {
  const vulns = loadVulnerabilities(sample("debian-trivy.json"));
  it("reads every vulnerability of every result with fix data", () => {
    expect(vulns.map((v) => v.id)).toEqual(["CVE-2023-45853", "CVE-2024-0727", "CVE-2024-35195"]);
    expect(vulns[0]).toMatchObject({ fixState: "wont-fix", fixVersions: [], severity: "CRITICAL", package: { name: "zlib1g", version: "1:1.2.13.dfsg-1", ecosystem: "deb" } });
    expect(vulns[1]).toMatchObject({ aliases: ["DSA-5678-1"], fixVersions: ["3.0.13-1~deb12u1"], fixState: "fixed" });
    expect(vulns[2]!.package.ecosystem).toBe("pypi");
  });
});

describe("CycloneDX with vulnerabilities", () => {
  const vulns = loadVulnerabilities(sample("grype-cyclonedx-vulns.json"));
  it("resolves affects[].ref to components, or reads the purl when the ref is one", () => {
    expect(vulns.map((v) => v.package.name)).toEqual(["libssl3", "libcrypto3"]);
    expect(vulns[0]).toMatchObject({ id: "CVE-2023-0464", aliases: ["GHSA-example-0464"], severity: "high", fixVersions: ["3.0.8-r1"] });
    const inv = loadInventory(fixture("syft/alpine-3.17-sbom.syft.json"));
    const r = analyzeReachability({ inventory: inv, vulnerabilities: vulns, trace: null, health: HEALTHY, verdicts: ON });
    expect(r.decisions.every((d) => d.package.key !== null)).toBe(true);
  });
});

describe("format detection", () => {
  it.each([
    ["a string", "nope", /must be a JSON object/],
    ["a vulnerability report", fixture("grype/alpine-3.17-matches.grype.json"), /vulnerability report .* not an SBOM/],
    ["an unknown object", { hello: 1 }, /unrecognised SBOM.*hello/],
    ["CycloneDX 2.0", { bomFormat: "CycloneDX", specVersion: "2.0", components: [] }, /specVersion 2.0 is not supported/],
    ["SPDX 3", { spdxVersion: "SPDX-3.0", packages: [] }, /SPDX version SPDX-3.0/],
  ])("loadInventory rejects %s with a clear message", (_l, doc, msg) => {
    expect(() => loadInventory(doc)).toThrow(InputFormatError);
    expect(() => loadInventory(doc)).toThrow(msg);
  });

  it.each([
    ["an SBOM", fixture("syft/alpine-3.17-sbom.syft.json"), /looks like an SBOM/],
    ["a CycloneDX SBOM without vulnerabilities", fixture("cyclonedx/alpine-3.15.4.cdx.json"), /no vulnerabilities\[\]/],
    ["an unknown object", { x: [] }, /unrecognised vulnerability report/],
  ])("loadVulnerabilities rejects %s", (_l, doc, msg) => {
    expect(() => loadVulnerabilities(doc)).toThrow(msg);
  });

  it("reads an SBOM wrapped in an in-toto attestation", () => {
    const inv = loadInventory({ _type: "https://in-toto.io/Statement/v0.1", predicateType: "https://cyclonedx.org/bom", predicate: fixture("cyclonedx/alpine-3.15.4.cdx.json") });
    expect(inv.formats).toEqual(["cyclonedx-json 1.4"]);
  });
});

describe("purl", () => {
  it("parses namespace, scoped npm names, encoded versions and the Trivy epoch", () => {
    expect(parsePurl("pkg:npm/%40babel/core@7.23.0")).toEqual({ type: "npm", namespace: "@babel", name: "core", version: "7.23.0" });
    expect(parsePurl("pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64")!.version).toBe("1:1.2.13.dfsg-1");
    expect(parsePurl("pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&epoch=1")!.version).toBe("1:1.2.13.dfsg-1");
    expect(parsePurl("pkg:alpine/zlib@1.2.12-r0?arch=x86_64")!.type).toBe("apk");
    expect(parsePurl("not-a-purl")).toBeUndefined();
  });
});

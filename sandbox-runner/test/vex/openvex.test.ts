/**
 * OpenVEX output: validates against the official v0.2.0 schema, has the product/subcomponent
 * shape of the demo document consumers match on, and parses OCI references like the registries do.
 */
import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { analyzeReachability, loadInventory, loadVulnerabilities } from "../../src/reachability/index.js";
import { buildOpenVex } from "../../src/vex/openvex.js";
import { ociPurl, parseOciReference, repositoryUrl } from "../../src/vex/oci-ref.js";
import { ALPINE_317_DIGEST, HEALTHY, ON, fixture, trace } from "../reachability/helpers.js";
import { fixturePath } from "../support/fixtures.js";

const schema = JSON.parse(readFileSync(fixturePath("openvex/openvex_json_schema_0.2.0.json"), "utf8"));
// Draft 2020-12 schema → ajv/dist/2020. ajv-formats is CommonJS: its plugin is `.default` under NodeNext.
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormatsModule.default(ajv);
// ajv-formats has no "iri" (RFC 3987); an IRI is an absolute URI that may hold non-ASCII.
ajv.addFormat("iri", (s: string) => {
  if (!/^[a-z][a-z0-9+.-]*:[^\s]+$/i.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
});
const validate = ajv.compile(schema);

const inventory = loadInventory(fixture("syft/alpine-3.17-sbom.syft.json"));
const vulnerabilities = loadVulnerabilities(fixture("grype/alpine-3.17-matches.grype.json"));
const OPTS = { imageRef: "alpine:3.17", imageDigest: ALPINE_317_DIGEST, author: "VEXxy test", idBase: "https://vexxy.example.com/vex/", now: new Date("2024-03-05T10:00:00Z") };

function mixedReport() {
  return analyzeReachability({
    inventory,
    vulnerabilities,
    trace: trace({ exec: ["/srv/app"], map: ["/lib/libssl.so.3"] }),
    health: HEALTHY,
    verdicts: ON,
  });
}

describe("buildOpenVex", () => {
  it("validates against the OpenVEX 0.2.0 schema with affected, not_affected and under_investigation statements", () => {
    const reports = [
      mixedReport(),
      analyzeReachability({ inventory, vulnerabilities, trace: null, health: HEALTHY, verdicts: ON }),
      analyzeReachability({ inventory, vulnerabilities, trace: trace(), health: HEALTHY, verdicts: { enabled: false, unlockTier: "starter" } }),
      analyzeReachability({ inventory, vulnerabilities, trace: null, health: HEALTHY, verdicts: ON, imagePaths: new Set(["/bin/busybox"]) }),
    ];
    const statuses = new Set<string>();
    for (const r of reports) {
      const doc = buildOpenVex(r, OPTS);
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
      doc.statements.forEach((s) => statuses.add(`${s.status}/${s.justification ?? ""}`));
    }
    expect([...statuses].sort()).toEqual(["affected/", "not_affected/component_not_present", "not_affected/vulnerable_code_not_in_execute_path", "under_investigation/"]);
  });

  it("the schema validator is not a rubber stamp", () => {
    const doc = buildOpenVex(mixedReport(), OPTS) as unknown as Record<string, unknown>;
    expect(validate({ ...doc, extra: 1 })).toBe(false);
    expect(validate({ ...doc, "@id": "not an iri" })).toBe(false);
    const bad = structuredClone(doc) as { statements: Record<string, unknown>[] };
    delete bad.statements.find((s) => s.status === "affected")!.action_statement;
    expect(validate(bad)).toBe(false);
  });

  it("has the demo document's shape: an oci product with the package as subcomponent", () => {
    const demo = fixture("openvex/image-and-package-demo.openvex.json") as { statements: { products: { "@id": string; subcomponents: { "@id": string }[] }[] }[] };
    const doc = buildOpenVex(mixedReport(), OPTS);
    const s = doc.statements.find((x) => x.vulnerability.name === "CVE-2023-0464" && x.products![0]!.subcomponents![0]!["@id"]!.includes("libssl3"))!;
    const product = s.products![0]!;
    expect(product["@id"]).toBe(`pkg:oci/alpine@sha256%3A${ALPINE_317_DIGEST.slice(7)}?repository_url=index.docker.io/library/alpine`);
    expect(product.identifiers).toEqual({ purl: `pkg:oci/alpine@sha256%3A${ALPINE_317_DIGEST.slice(7)}` });
    expect(product.hashes).toEqual({ "sha-256": ALPINE_317_DIGEST.slice(7) });
    // Same id grammar as the demo: pkg:oci/<name>@sha256%3A<hex>, subcomponents pkg:apk/alpine/<name>@<version>.
    const demoProduct = demo.statements[0]!.products[0]!;
    expect(product["@id"]!.split("@")[0]).toBe(demoProduct["@id"].split("@")[0]);
    expect(product.subcomponents![0]!["@id"]).toBe("pkg:apk/alpine/libssl3@3.0.8-r0");
    expect(demoProduct.subcomponents[0]!["@id"]).toMatch(/^pkg:apk\/alpine\/libssl3@[^?]+$/);
    expect(s.status).toBe("affected");
    expect(s.action_statement).toContain("Upgrade libssl3 to 3.0.8-r1");
  });

  it("one statement per (vulnerability, package), document id from idBase, timestamp from now", () => {
    const r = mixedReport();
    const doc = buildOpenVex(r, { ...OPTS, documentId: "job-123", version: 3, role: "Sandbox runner" });
    expect(doc.statements).toHaveLength(r.decisions.length);
    expect(doc["@id"]).toBe("https://vexxy.example.com/vex/job-123");
    expect(doc.timestamp).toBe("2024-03-05T10:00:00.000Z");
    expect(doc).toMatchObject({ "@context": "https://openvex.dev/ns/v0.2.0", version: 3, role: "Sandbox runner", author: "VEXxy test" });
    const a = buildOpenVex(r, OPTS)["@id"];
    const b = buildOpenVex(r, OPTS)["@id"];
    expect(a).not.toBe(b); // random uuid per document when no id is given
  });

  it("rejects a reference whose digest disagrees with imageDigest", () => {
    expect(() => buildOpenVex(mixedReport(), { ...OPTS, imageRef: `alpine@sha256:${"0".repeat(64)}` })).toThrow(/differs/);
  });
});

describe("OCI references", () => {
  it.each([
    ["nginx:1.25", "docker.io", "library/nginx", "1.25", "index.docker.io/library/nginx"],
    ["bitnami/redis", "docker.io", "bitnami/redis", undefined, "index.docker.io/bitnami/redis"],
    ["docker.io/library/alpine:3.17", "docker.io", "library/alpine", "3.17", "index.docker.io/library/alpine"],
    ["ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", "ghcr.io/org/team/app"],
    ["localhost:5000/app:dev", "localhost:5000", "app", "dev", "localhost:5000/app"],
    ["registry.example.com:8443/ns/app", "registry.example.com:8443", "ns/app", undefined, "registry.example.com:8443/ns/app"],
  ])("%s", (ref, registry, repository, tag, url) => {
    const p = parseOciReference(ref);
    expect(p).toEqual({ registry, repository, ...(tag ? { tag } : {}) });
    expect(repositoryUrl(p)).toBe(url);
  });

  it("reads digests and builds the purl", () => {
    const p = parseOciReference(`quay.io/prometheus/node-exporter:v1.7.0@${ALPINE_317_DIGEST}`);
    expect(p.digest).toBe(ALPINE_317_DIGEST);
    expect(ociPurl(p, ALPINE_317_DIGEST)).toBe(`pkg:oci/node-exporter@sha256%3A${ALPINE_317_DIGEST.slice(7)}?repository_url=quay.io/prometheus/node-exporter`);
  });

  it.each(["", "UPPER/case", "nginx@sha256:abc", "nginx:bad tag", "a:b:c/d"])("rejects %j", (ref) => {
    expect(() => parseOciReference(ref)).toThrow();
  });
});

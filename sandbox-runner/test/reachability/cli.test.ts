/** The CLI in-process: stdout is the OpenVEX document, stderr says what was not used, exit codes. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/reachability.js";
import { ALPINE_317_DIGEST, FIXTURES, trace } from "./helpers.js";

const SBOM = `${FIXTURES}/syft/alpine-3.17-sbom.syft.json`;
const VULNS = `${FIXTURES}/grype/alpine-3.17-matches.grype.json`;
const IMAGE = `alpine:3.17@${ALPINE_317_DIGEST}`;
const dir = mkdtempSync(join(tmpdir(), "reach-cli-"));

function cli(args: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reachability CLI", () => {
  it("prints an OpenVEX document; without a trace everything is under_investigation and stderr says why", () => {
    const r = cli(["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc["@context"]).toBe("https://openvex.dev/ns/v0.2.0");
    expect(doc.statements.every((s: { status: string }) => s.status === "under_investigation")).toBe(true);
    expect(r.err).toContain("No runtime trace");
  });

  it("with a trace, --healthy --exercised and --report prints both documents", () => {
    const t = join(dir, "trace.json");
    writeFileSync(t, JSON.stringify(trace({ exec: ["/srv/app"], map: ["/lib/libssl.so.3"] })));
    const r = cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE, "--healthy", "--exercised", "--report", "--document-id", "x1"]);
    expect(r.code).toBe(0);
    const { openvex, report } = JSON.parse(r.out);
    expect(openvex["@id"]).toBe("https://vexxy.example.com/vex/x1");
    expect(report.summary.affected).toBeGreaterThan(0);
    expect(report.summary.not_affected).toBeGreaterThan(0);
    expect(report.summary.affected + report.summary.not_affected + report.summary.under_investigation).toBe(report.summary.decisions);
  });

  it("a trace without --healthy/--exercised gives no not_affected and a warning", () => {
    const t = join(dir, "trace2.json");
    writeFileSync(t, JSON.stringify(trace()));
    const r = cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE, "--report"]);
    expect(JSON.parse(r.out).report.summary.not_affected).toBe(0);
    expect(r.err).toContain("without --healthy and --exercised");
  });

  it("reads a Kubescape profile and reports what it cannot express", () => {
    const r = cli(["--sbom", SBOM, "--vulns", VULNS, "--kubescape-profile", `${FIXTURES}/kubescape/nginx-1.14-container-profile.json`, "--image", IMAGE, "--healthy", "--exercised"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("no memory mappings");
  });

  it.each([
    [["--vulns", VULNS, "--image", IMAGE], /--sbom is required/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", "alpine:3.17"], /digest is required/],
    [["--sbom", VULNS, "--vulns", VULNS, "--image", IMAGE], /alpine-3.17-matches.grype.json: this looks like a vulnerability report/],
    [["--sbom", "/nonexistent.json", "--vulns", VULNS, "--image", IMAGE], /cannot read \/nonexistent.json: ENOENT/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE, "--bogus"], /Unknown option/],
  ])("bad input %j exits 2 with a clear message", (args, msg) => {
    const r = cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.out).toBe("");
  });

  it("rejects a malformed trace file", () => {
    const t = join(dir, "bad-trace.json");
    writeFileSync(t, JSON.stringify({ source: "strace", execs: [] }));
    const r = cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("not a RuntimeTrace JSON");
  });
});

/** The CLI in-process: stdout is the OpenVEX document, stderr says what was not used, exit codes. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/reachability.js";
import { ALPINE_317_DIGEST, FIXTURES, trace } from "./helpers.js";

const SBOM = `${FIXTURES}/syft/alpine-3.17-sbom.syft.json`;
const VULNS = `${FIXTURES}/grype/alpine-3.17-matches.grype.json`;
const IMAGE = `alpine:3.17@${ALPINE_317_DIGEST}`;
const dir = mkdtempSync(join(tmpdir(), "reach-cli-"));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("reachability CLI", async () => {
  it("prints an OpenVEX document; without a trace everything is under_investigation and stderr says why", async () => {
    const r = await cli(["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc["@context"]).toBe("https://openvex.dev/ns/v0.2.0");
    expect(doc.statements.every((s: { status: string }) => s.status === "under_investigation")).toBe(true);
    expect(r.err).toContain("No runtime trace");
  });

  it("with a trace, --healthy --exercised and --report prints both documents", async () => {
    const t = join(dir, "trace.json");
    writeFileSync(t, JSON.stringify(trace({ exec: ["/srv/app"], map: ["/lib/libssl.so.3"] })));
    const r = await cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE, "--healthy", "--exercised", "--report", "--document-id", "x1"]);
    expect(r.code).toBe(0);
    const { openvex, report } = JSON.parse(r.out);
    expect(openvex["@id"]).toBe("https://vexxy.example.com/vex/x1");
    expect(report.summary.affected).toBeGreaterThan(0);
    expect(report.summary.not_affected).toBeGreaterThan(0);
    expect(report.summary.affected + report.summary.not_affected + report.summary.under_investigation).toBe(report.summary.decisions);
  });

  it("a trace without --healthy/--exercised gives no not_affected and a warning", async () => {
    const t = join(dir, "trace2.json");
    writeFileSync(t, JSON.stringify(trace()));
    const r = await cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE, "--report"]);
    expect(JSON.parse(r.out).report.summary.not_affected).toBe(0);
    expect(r.err).toContain("without --healthy and --exercised");
  });

  it("reads a Kubescape profile and reports what it cannot express", async () => {
    const r = await cli(["--sbom", SBOM, "--vulns", VULNS, "--kubescape-profile", `${FIXTURES}/kubescape/nginx-1.14-container-profile.json`, "--image", IMAGE, "--healthy", "--exercised"]);
    expect(r.code).toBe(0);
    expect(r.err).toContain("no memory mappings");
  });

  it.each([
    [["--vulns", VULNS, "--image", IMAGE], /--sbom is required/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", "alpine:3.17"], /digest is required/],
    [["--sbom", VULNS, "--vulns", VULNS, "--image", IMAGE], /alpine-3.17-matches.grype.json: this looks like a vulnerability report/],
    [["--sbom", "/nonexistent.json", "--vulns", VULNS, "--image", IMAGE], /cannot read \/nonexistent.json: ENOENT/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE, "--bogus"], /Unknown option/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE, "--image-root", "/nonexistent"], /--image-root \/nonexistent is not a directory/],
    [["--sbom", SBOM, "--vulns", VULNS, "--image", IMAGE, "--policy", "lenient"], /--policy is standard or strict/],
  ])("bad input %j exits 2 with a clear message", async (args, msg) => {
    const r = await cli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.out).toBe("");
  });

  it("rejects a malformed trace file", async () => {
    const t = join(dir, "bad-trace.json");
    writeFileSync(t, JSON.stringify({ source: "strace", execs: [] }));
    const r = await cli(["--sbom", SBOM, "--vulns", VULNS, "--trace", t, "--image", IMAGE]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("not a RuntimeTrace JSON");
  });

  describe("with the image itself (issue #13: the CLI sees what the runner sees)", () => {
    // An Alpine-shaped image: musl's loader, busybox as /bin/sh, a musl-linked service behind a #!/bin/sh entrypoint.
    const root = join(dir, "rootfs");
    const apk = [
      "P:musl\nV:1.2.3-r4\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\nR:libc.musl-x86_64.so.1\n",
      "P:busybox\nV:1.35.0-r29\nA:x86_64\nF:bin\nR:busybox\nR:sh\n",
      "P:zlib\nV:1.2.13-r0\nA:x86_64\nF:lib\nR:libz.so.1.2.13\n",
    ].join("\n");
    const sbom = join(dir, "empty-sbom.json");
    const vulns = join(dir, "alpine-vulns.json");
    const run = ["--sbom", sbom, "--vulns", vulns, "--image", IMAGE, "--trace", join(dir, "svc-trace.json"), "--healthy", "--exercised", "--report"];

    function statusOf(out: string, pkg: string): string {
      const { report } = JSON.parse(out);
      return report.decisions.find((d: { package: { name: string } }) => d.package.name === pkg).status;
    }

    beforeAll(() => {
      for (const d of ["lib/apk/db", "bin", "srv", "etc"]) mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, "lib/apk/db/installed"), apk);
      writeFileSync(join(root, "etc/os-release"), "ID=alpine\n");
      writeFileSync(join(root, "lib/ld-musl-x86_64.so.1"), "\x7fELF");
      symlinkSync("ld-musl-x86_64.so.1", join(root, "lib/libc.musl-x86_64.so.1"));
      writeFileSync(join(root, "lib/libz.so.1.2.13"), "");
      copyFileSync(existsSync("/bin/busybox") ? "/bin/busybox" : "/bin/true", join(root, "bin/busybox"));
      chmodSync(join(root, "bin/busybox"), 0o755);
      symlinkSync("/bin/busybox", join(root, "bin/sh"));
      writeFileSync(join(root, "srv/entry.sh"), "#!/bin/sh\nexec /srv/service\n", { mode: 0o755 });
      // A minimal ELF64 header + one PT_INTERP program header naming musl's loader.
      writeFileSync(join(root, "srv/service"), elfWithInterp("/lib/ld-musl-x86_64.so.1"), { mode: 0o755 });
      writeFileSync(sbom, JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.5", components: [] }));
      writeFileSync(
        vulns,
        JSON.stringify({
          matches: ["musl@1.2.3-r4", "busybox@1.35.0-r29", "zlib@1.2.13-r0"].map((nv) => {
            const [name, version] = nv.split("@");
            return { vulnerability: { id: `CVE-TEST-${name}`, severity: "High", fix: { versions: [], state: "unknown" } }, artifact: { name, version, type: "apk", purl: `pkg:apk/alpine/${name}@${version}` } };
          }),
        }),
      );
      writeFileSync(join(dir, "svc-trace.json"), JSON.stringify(trace({ exec: ["/srv/entry.sh", "/srv/service"] })));
    });

    it("--image-root: the kernel-loaded loader and #! interpreter are affected, untouched zlib not_affected", async () => {
      const r = await cli([...run, "--image-root", root]);
      expect(r.code, r.err).toBe(0);
      expect(statusOf(r.out, "musl")).toBe("affected");
      expect(statusOf(r.out, "busybox")).toBe("affected");
      expect(statusOf(r.out, "zlib")).toBe("not_affected");
    });

    it("without the image: conservative fallbacks, said on stderr", async () => {
      const r = await cli(run);
      expect(r.code).toBe(0);
      expect(r.err).toContain("no --image-root or --image-layout");
      expect(statusOf(r.out, "musl")).toBe("under_investigation");
      expect(statusOf(r.out, "busybox")).toBe("under_investigation");
    });

    it("--image-layout DIR:TAG unpacks an OCI layout's layers, whiteouts included", async () => {
      const layout = join(dir, "layout");
      // Layer 1: the root filesystem plus a file layer 2 deletes; layer 2: the whiteout.
      writeFileSync(join(root, "srv/stale"), "gone");
      const l1 = tarBlob(layout, root, ".");
      rmSync(join(root, "srv/stale"));
      const l2dir = join(dir, "layer2");
      mkdirSync(join(l2dir, "srv"), { recursive: true });
      writeFileSync(join(l2dir, "srv/.wh.stale"), "");
      const l2 = tarBlob(layout, l2dir, ".");
      const config = blob(layout, JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
      const manifest = blob(
        layout,
        JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [l1, l2].map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l })) }),
      );
      writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
      writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest, annotations: { "org.opencontainers.image.ref.name": "svc" } }] }));

      const r = await cli([...run, "--image-layout", `${layout}:svc`, "--digest", manifest.digest, "--image", `alpine:3.17`]);
      expect(r.code, r.err).toBe(0);
      expect(statusOf(r.out, "musl")).toBe("affected");
      expect(statusOf(r.out, "zlib")).toBe("not_affected");
      const { report } = JSON.parse(r.out);
      expect(report.evidence.image_read).toBe(true);
      const bad = await cli([...run, "--image-layout", `${layout}:nope`]);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain("no single image tagged nope");
    });
  });
});

function elfWithInterp(interp: string): Buffer {
  const b = Buffer.alloc(64 + 56 + interp.length + 1);
  b.write("\x7fELF", 0, "latin1");
  b[4] = 2; // 64-bit
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(56, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  b.writeUInt32LE(3, 64); // PT_INTERP
  b.writeBigUInt64LE(120n, 64 + 8); // p_offset
  b.writeBigUInt64LE(BigInt(interp.length + 1), 64 + 32); // p_filesz
  b.write(interp, 120, "latin1");
  return b;
}

function blob(layout: string, content: string | Buffer): { digest: string; size: number } {
  const buf = Buffer.isBuffer(content) ? content : Buffer.from(content);
  const hex = createHash("sha256").update(buf).digest("hex");
  mkdirSync(join(layout, "blobs/sha256"), { recursive: true });
  writeFileSync(join(layout, "blobs/sha256", hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

function tarBlob(layout: string, from: string, what: string): { digest: string; size: number } {
  return blob(layout, execFileSync("tar", ["-czf", "-", "-C", from, what]));
}

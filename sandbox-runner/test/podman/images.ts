/**
 * Shared setup for the podman suites: are podman and strace here, and the offline test images built
 * (test-images/build.sh, cached in $VEXXY_IMAGE_CACHE)? Without podman the suites skip with a reason,
 * unless REQUIRE_PODMAN=1 (CI), where they fail.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTAINERS_CONF } from "../../src/drivers/podman/exec.js";
import { expect } from "vitest";
import { SandboxError, type SandboxSpec } from "../../src/drivers/types.js";

export const IMAGE_CACHE = process.env.VEXXY_IMAGE_CACHE ?? "/var/cache/vexxy-test-images";
const TARGET_REF = "localhost/vexxy-test/target:latest";
export const PROBER_REF = "localhost/vexxy-test/prober:latest";

function missingTools(): string | null {
  for (const [tool, args] of [["podman", ["--version"]], ["strace", ["-V"]], ["nsenter", ["--version"]]] as const) {
    const r = spawnSync(tool, args, { stdio: "ignore" });
    if (r.error || r.status !== 0) return `${tool} is not installed`;
  }
  if (process.getuid?.() !== 0) return "the podman driver tests need root (podman image mount, strace -p)";
  return null;
}

const missing = missingTools();
if (missing && process.env.REQUIRE_PODMAN === "1") {
  throw new Error(`REQUIRE_PODMAN=1 but ${missing}`);
}
/** Why the suites are skipped, or null when they run. */
export const skipReason: string | null = missing ? `podman suites skipped: ${missing}` : null;
if (skipReason) console.warn(skipReason);

let built = false;
/** Builds or reuses the test images; returns their manifest digests. */
export function ensureImages(): { target: string; prober: string } {
  if (!built) {
    execFileSync(join(import.meta.dirname, "../../test-images/build.sh"), {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, CONTAINERS_CONF },
    });
    built = true;
  }
  const read = (name: string) => readFileSync(join(IMAGE_CACHE, `${name}.digest`), "utf8").trim();
  return { target: read("target"), prober: read("prober") };
}

export function targetSpec(digest: string, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    jobId: `t-${randomUUID()}`,
    imageRef: TARGET_REF,
    imageDigest: digest,
    ports: [8080],
    environment: { GREETING: "hello" },
    timeoutSeconds: 120,
    codeCoverage: false,
    ...overrides,
  };
}

export const LIMITS = { memoryBytes: 256 * 1024 * 1024, cpus: 1, pids: 128 };

/** Unique per test file, so a sweep here never touches another runner's containers. */
export function testRunnerId(): string {
  return `test-${process.pid}-${randomUUID().slice(0, 8)}`;
}

export function podmanSync(args: string[]): string {
  return execFileSync("podman", args, { env: { ...process.env, CONTAINERS_CONF }, encoding: "utf8" });
}

export function containersWithLabel(label: string): string[] {
  return podmanSync(["ps", "-a", "--filter", `label=${label}`, "--format", "{{.Names}}"])
    .split("\n")
    .filter(Boolean);
}

/**
 * A variant of the target image with its own manifest digest, in a fresh OCI layout podman has never
 * seen. Blobs are hard-linked from the cache; umoci only adds blobs and rewrites our index.json copy.
 */
export function variantImage(tag: string, umociConfigArgs: string[]): { layout: string; digest: string } {
  const layout = mkdtempSync(join(tmpdir(), "vexxy-oci-source-"));
  const oci = join(layout, "oci");
  mkdirSync(oci);
  execFileSync("cp", ["-al", join(IMAGE_CACHE, "oci", "blobs"), join(oci, "blobs")]);
  copyFileSync(join(IMAGE_CACHE, "oci", "index.json"), join(oci, "index.json"));
  copyFileSync(join(IMAGE_CACHE, "oci", "oci-layout"), join(oci, "oci-layout"));
  execFileSync("umoci", ["config", "--image", `${oci}:target`, "--tag", tag, "--config.label", `vexxy.test=${layout}`, ...umociConfigArgs]);
  const index = JSON.parse(readFileSync(join(oci, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const digest = index.manifests.find((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag)!.digest;
  return { layout, digest };
}

export function removeVariant(v: { layout: string; digest: string }): void {
  // rmi wants the image ID; find it by the manifest digest.
  const ids = podmanSync(["images", "--digests", "--no-trunc", "--format", "{{.Digest}} {{.ID}}"])
    .split("\n")
    .filter((l) => l.startsWith(`${v.digest} `))
    .map((l) => l.split(" ")[1]!);
  for (const id of new Set(ids)) podmanSync(["rmi", "-f", id]);
  rmSync(v.layout, { recursive: true, force: true });
}

/** The SandboxError a promise rejects with (the test fails if it resolves or rejects with something else). */
export async function failure(p: Promise<unknown>): Promise<SandboxError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SandboxError);
  return e as SandboxError;
}

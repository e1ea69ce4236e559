/** Images pinned by digest (local, offline source, mismatch, unavailable) and reading their files without running them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectImageFilesystem, PodmanDriver } from "../../src/drivers/podman/index.js";
import { ensureImages, failure, IMAGE_CACHE, podmanSync, removeVariant, skipReason, targetSpec, variantImage } from "./images.js";

const never = new AbortController().signal;


describe.skipIf(skipReason)("prepareImage pins images by manifest digest", () => {
  let digests: { target: string; prober: string };
  const driver = new PodmanDriver();
  let layout = "";
  let variantDigest = "";
  let variant: { layout: string; digest: string };

  beforeAll(() => {
    digests = ensureImages();
    variant = variantImage("variant", []);
    variantDigest = variant.digest;
    layout = variant.layout;
  });

  afterAll(() => removeVariant(variant));

  it("uses the image already in local storage when its digest matches", async () => {
    await expect(driver.prepareImage(targetSpec(digests.target), never)).resolves.toBeUndefined();
  });

  it("loads an image from RUNNER_IMAGE_SOURCES by digest and verifies what podman reports", async () => {
    expect(variantDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(variantDigest).not.toBe(digests.target);
    const spec = targetSpec(variantDigest, { imageRef: "registry.invalid/team/app:variant" });
    // Without the source it cannot be had offline...
    expect((await failure(driver.prepareImage(spec, never))).code).toBe("image_unavailable");
    // ...with it, it is loaded and then found by digest.
    const withSource = new PodmanDriver({ imageSources: [layout] });
    await withSource.prepareImage(spec, never);
    const reported = podmanSync(["images", "--digests", "--no-trunc", "--format", "{{.Digest}}"]);
    expect(reported.split("\n")).toContain(variantDigest);
  });

  it("fails with digest_mismatch when the reference resolves to a different digest", async () => {
    const pinned = "sha256:" + "0".repeat(63) + "1";
    const e = await failure(driver.prepareImage(targetSpec(pinned), never));
    expect(e.code).toBe("digest_mismatch");
    expect(e.message).toBe(`image localhost/vexxy-test/target:latest resolved to ${digests.target} but the job pinned ${pinned}`);
  });

  it("fails with image_unavailable and a clear message when nothing provides the digest", async () => {
    const pinned = "sha256:" + "a".repeat(64);
    const e = await failure(driver.prepareImage(targetSpec(pinned, { imageRef: "registry.invalid/nobody/nothing:1" }), never));
    expect(e.code).toBe("image_unavailable");
    expect(e.message).toBe(`image registry.invalid/nobody/nothing@${pinned} could not be pulled: registry unreachable`);
  });

  it("refuses to start an image that was not prepared", async () => {
    const e = await failure(driver.start(targetSpec("sha256:" + "b".repeat(64)), { memoryBytes: 1 << 28, cpus: 1, pids: 64 }, never));
    expect(e.code).toBe("image_unavailable");
  });
});

describe.skipIf(skipReason)("reading the image's filesystem without running it", () => {
  let digest = "";
  beforeAll(() => {
    digest = ensureImages().target;
  });

  it("readImageFile returns package databases and resolves symlinks inside the image", async () => {
    const driver = new PodmanDriver();
    const spec = targetSpec(digest);
    const status = (await driver.readImageFile(spec, "/var/lib/dpkg/status"))!.toString("utf8");
    const vulns = JSON.parse(readFileSync(join(IMAGE_CACHE, "target.vulns.grype.json"), "utf8")) as {
      matches: { artifact: { name: string; version: string } }[];
    };
    // The generated vulnerability list names the image's real versions.
    for (const m of vulns.matches) {
      expect(status).toContain(`Package: ${m.artifact.name}\n`);
      expect(status).toMatch(new RegExp(`Package: ${m.artifact.name}\\n(?:.+\\n)*?Version: ${m.artifact.version.replace(/[.+~]/g, "\\$&")}\\n`));
    }
    // /lib is a symlink to usr/lib in the image: followed within the image, not on the host.
    const libz = await driver.readImageFile(spec, "/lib/x86_64-linux-gnu/libz.so.1");
    expect(libz?.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(await driver.readImageFile(spec, "/no/such/file")).toBeNull();
    expect(await driver.readImageFile(spec, "/var/lib/dpkg")).toBeNull();
  });

  it("collectImageFilesystem returns package databases, every path and the symlinks", async () => {
    const fs = await collectImageFilesystem(digest);
    expect(fs.files.get("/var/lib/dpkg/status")).toContain("Package: python3.11-minimal");
    expect(fs.files.get("/var/lib/dpkg/info/libssl3:amd64.list")).toContain("/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
    expect(fs.files.has("/etc/os-release") || fs.symlinks.has("/etc/os-release")).toBe(true);
    expect([...fs.files.keys()].every((p) => !p.startsWith("/usr/bin/"))).toBe(true);
    expect(fs.paths.has("/usr/bin/python3.11")).toBe(true);
    expect(fs.paths.has("/srv/app.py")).toBe(true);
    expect(fs.symlinks.get("/lib")).toBe("usr/lib");
    expect(fs.paths.size).toBeGreaterThan(3000);
    // What the kernel runs for an executable: the loader it maps (glibc's) or the #! interpreter.
    expect(fs.executables.get("/usr/bin/python3.11")).toEqual({ kind: "elf", interpreter: "/lib64/ld-linux-x86-64.so.2" });
    expect(fs.executables.get("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")).toEqual({ kind: "elf", interpreter: null });
    expect([...fs.executables.values()].some((e) => e.kind === "script" && e.interpreter === "/bin/sh")).toBe(true);
    // Leaves nothing mounted.
    expect(podmanSync(["image", "mount"]).trim()).toBe("");
  });
});

/** Limits and cleanup: the wall-clock timeout, cancellation mid-run, destroy after partial start, orphan sweeps. */
import { existsSync, readdirSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PodmanDriver } from "../../src/drivers/podman/index.js";
import { SandboxError } from "../../src/drivers/types.js";
import type { PodmanSandbox } from "../../src/drivers/podman/sandbox.js";
import {
  containersWithLabel,
  ensureImages,
  LIMITS,
  podmanSync,
  PROBER_REF,
  removeVariant,
  skipReason,
  targetSpec,
  testRunnerId,
  variantImage,
} from "./images.js";

const never = new AbortController().signal;

describe.skipIf(skipReason)("podman sandbox lifecycle", () => {
  const runnerId = testRunnerId();
  const workRoot = mkdtempSync(join(tmpdir(), "vexxy-lifecycle-"));
  const driver = new PodmanDriver({ runnerId, workRoot, stopGraceSeconds: 2 });
  let digest = "";

  beforeAll(() => {
    digest = ensureImages().target;
  });

  afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

  it("enforces the wall-clock limit: kills the target and fails the running step with a timeout", async () => {
    const spec = targetSpec(digest, { timeoutSeconds: 4 });
    const sandbox = await driver.start(spec, LIMITS, never);
    try {
      expect((await sandbox.waitHealthy(30_000, never)).healthy).toBe(true);
      const t0 = Date.now();
      const err = await sandbox.runScript("sleep 60", 120_000, never).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe("timeout");
      expect(Date.now() - t0).toBeLessThan(15_000);
      const state = podmanSync(["container", "inspect", "--format", "{{.State.Running}}", sandbox.id]).trim();
      expect(state).toBe("false");
      // The trace up to the kill is still available.
      const stopped = await sandbox.stop();
      expect(stopped.trace.execs.map((e) => e.path)).toContain("/usr/bin/python3.11");
    } finally {
      await sandbox.destroy();
    }
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([]);
  });

  it("cancels a running script on abort and destroy leaves nothing behind", async () => {
    const spec = targetSpec(digest);
    const sandbox = await driver.start(spec, LIMITS, never);
    const workDirs = readdirSync(workRoot).filter((d) => d.includes(spec.jobId));
    expect(workDirs).toHaveLength(1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("job cancelled")), 1_500);
    const t0 = Date.now();
    await expect(sandbox.runScript("echo running; sleep 60", 120_000, ac.signal)).rejects.toThrow("job cancelled");
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([sandbox.id]); // the prober is gone
    await sandbox.destroy();
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([]);
    expect(existsSync(join(workRoot, workDirs[0]!))).toBe(false);
  });

  it("aborting start cleans up what it had created", async () => {
    const spec = targetSpec(digest);
    const ac = new AbortController();
    ac.abort(new Error("cancelled before start"));
    await expect(driver.start(spec, LIMITS, ac.signal)).rejects.toThrow("cancelled before start");
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([]);
    expect(readdirSync(workRoot).filter((d) => d.includes(spec.jobId))).toEqual([]);
  });

  it("falls back to a writable root, and says so, when the image cannot run read-only", async () => {
    // The target image, but its command first writes into /var/lib (not a tmpfs).
    const variant = variantImage("writes-root", [
      "--clear=config.cmd", "--config.cmd", "/bin/sh", "--config.cmd", "-c",
      "--config.cmd", "echo state > /var/lib/app-state && exec /usr/bin/python3.11 /srv/app.py",
    ]);
    try {
      const spec = targetSpec(variant.digest, { imageRef: "registry.invalid/app:writes-root" });
      const withSource = new PodmanDriver({ runnerId, workRoot, imageSources: [variant.layout] });
      await withSource.prepareImage(spec, never);
      const sandbox = (await withSource.start(spec, LIMITS, never)) as PodmanSandbox;
      try {
        expect(await sandbox.waitHealthy(30_000, never)).toEqual({ healthy: true });
        expect(sandbox.notes).toContain("the image could not run with a read-only root filesystem; it ran with a writable root");
        const readOnly = podmanSync(["container", "inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", sandbox.id]).trim();
        expect(readOnly).toBe("false");
        const { trace } = await sandbox.stop();
        // The trace is the writable run's, from its first exec: sh, then python.
        expect(trace.execs.map((e) => e.path)).toEqual(["/bin/sh", "/usr/bin/python3.11"]);
        expect(trace.complete).toBe(true);
      } finally {
        await sandbox.destroy();
      }
    } finally {
      removeVariant(variant);
    }
  });

  it("sweepOrphans removes containers and temp dirs a crashed runner left", async () => {
    // A sandbox whose runner "crashed" (never destroyed) plus a stray labelled container.
    const spec = targetSpec(digest);
    await driver.start(spec, LIMITS, never);
    podmanSync([
      "create", "--label", "vexxy.managed=true", "--label", `vexxy.runner=${runnerId}`,
      "--label", "vexxy.job-id=stray", "--network", "none", PROBER_REF, "sleep", "60",
    ]);
    const other = `other-${runnerId}`;
    podmanSync(["create", "--label", "vexxy.managed=true", "--label", `vexxy.runner=${other}`, "--network", "none", PROBER_REF, "true"]);
    try {
      expect(containersWithLabel(`vexxy.runner=${runnerId}`)).toHaveLength(2);
      // A fresh driver, as after a restart.
      const restarted = new PodmanDriver({ runnerId, workRoot });
      expect(await restarted.sweepOrphans()).toBe(2);
      expect(containersWithLabel(`vexxy.runner=${runnerId}`)).toEqual([]);
      expect(readdirSync(workRoot)).toEqual([]);
      // The abandoned sandbox's strace is gone too (it would otherwise hold conmon in ptrace).
      await new Promise((r) => setTimeout(r, 500));
      expect(processesMentioning(workRoot)).toEqual([]);
      // Scoped: another runner's containers are left alone.
      expect(containersWithLabel(`vexxy.runner=${other}`)).toHaveLength(1);
      expect(await restarted.sweepOrphans()).toBe(0);
    } finally {
      podmanSync(["rm", "-f", "--filter", `label=vexxy.runner=${other}`]);
    }
  });
});

/** Pids of live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, "utf8").includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

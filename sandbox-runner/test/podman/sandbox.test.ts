/**
 * The podman driver against real podman and the offline-built target image: isolation, the user's
 * script reaching localhost:8080, and a trace that shows exactly the packages the service uses.
 */
import { createServer, type Server } from "node:http";
import { networkInterfaces } from "node:os";
import { existsSync } from "node:fs";
import { posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PodmanDriver } from "../../src/drivers/podman/index.js";
import { collectImageFilesystem, type ImageFilesystemSnapshot } from "../../src/drivers/podman/image-fs.js";
import type { PodmanSandbox } from "../../src/drivers/podman/sandbox.js";
import type { RuntimeTrace } from "../../src/trace/types.js";
import { containersWithLabel, ensureImages, LIMITS, podmanSync, skipReason, targetSpec, testRunnerId } from "./images.js";

const never = new AbortController().signal;

describe.skipIf(skipReason)("podman sandbox running the target image", () => {
  const runnerId = testRunnerId();
  const driver = new PodmanDriver({ runnerId, stopGraceSeconds: 3 });
  let spec: ReturnType<typeof targetSpec>;
  let sandbox: PodmanSandbox;
  let hostServer: Server;
  let hostPort = 0;
  let hostHits = 0;
  let script: { exitCode: number; stdout: string; stderr: string };
  let stopped: Awaited<ReturnType<PodmanSandbox["stop"]>>;
  let fs: ImageFilesystemSnapshot;

  beforeAll(async () => {
    const { target } = ensureImages();
    spec = targetSpec(target);
    hostServer = createServer((_req, res) => {
      hostHits++;
      res.end("host");
    });
    await new Promise<void>((r) => hostServer.listen(0, "127.0.0.1", r));
    hostPort = (hostServer.address() as { port: number }).port;
    await driver.prepareImage(spec, never);
    sandbox = (await driver.start(spec, LIMITS, never)) as PodmanSandbox;
    fs = await collectImageFilesystem(target);
  });

  afterAll(async () => {
    await sandbox?.destroy();
    hostServer?.close();
  });

  it("becomes healthy and answers the probe over HTTP", async () => {
    expect(await sandbox.waitHealthy(30_000, never)).toEqual({ healthy: true });
    expect(await sandbox.probe(never)).toEqual([{ port: 8080, answered: true, detail: "HTTP 200" }]);
  });

  it("runs the target read-only, capability-less, with no network but loopback", () => {
    const [inspect] = JSON.parse(podmanSync(["container", "inspect", "--format", "json", sandbox.id])) as {
      HostConfig: { ReadonlyRootfs: boolean; NetworkMode: string; CapDrop: string[]; SecurityOpt: string[]; PidsLimit: number; Memory: number };
      EffectiveCaps: string[] | null;
      Config: { Labels: Record<string, string> };
    }[];
    expect(inspect!.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspect!.HostConfig.NetworkMode).toBe("none");
    expect(inspect!.EffectiveCaps ?? []).toEqual([]);
    expect(inspect!.HostConfig.SecurityOpt).toContain("no-new-privileges");
    expect(inspect!.HostConfig.PidsLimit).toBe(LIMITS.pids);
    expect(inspect!.HostConfig.Memory).toBe(LIMITS.memoryBytes);
    expect(inspect!.Config.Labels).toMatchObject({ "vexxy.managed": "true", "vexxy.job-id": spec.jobId });
  });

  it("lets the script reach localhost:8080 and nothing else", async () => {
    const hostIp = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    const result = await sandbox.runScript(
      [
        "set -u",
        "curl -sS -m 5 http://localhost:8080/from-script",
        'echo; echo "target=$?"',
        `curl -sS -m 3 http://127.0.0.1:${hostPort}/ >/dev/null 2>&1; echo "host_loopback=$?"`,
        hostIp ? `curl -sS -m 3 http://${hostIp}:${hostPort}/ >/dev/null 2>&1; echo "host_ip=$?"` : "echo host_ip=skipped",
        "curl -sS -m 3 http://1.1.1.1/ >/dev/null 2>&1; echo \"internet=$?\"",
        // Default route lines (destination 00000000) in the kernel's table; none means no egress.
        "echo \"routes=$(awk 'NR>1' /proc/net/route | wc -l)\"",
        "touch /probe-write 2>/dev/null; echo \"rootfs_write=$?\"",
      ].join("\n"),
      60_000,
      never,
    );
    script = result;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('"path": "/from-script"');
    expect(result.stdout).toContain("target=0");
    // curl exit 7 = could not connect: the host's loopback is a different namespace.
    expect(result.stdout).toMatch(/host_loopback=(7|28)/);
    if (hostIp) expect(result.stdout).toMatch(/host_ip=(7|28)/);
    expect(result.stdout).toMatch(/internet=(7|28)/);
    expect(result.stdout).toContain("routes=0");
    expect(result.stdout).toMatch(/rootfs_write=[1-9]/);
    expect(hostHits).toBe(0);
  });

  it("bounds a script by its own time limit and removes its container", async () => {
    const t0 = Date.now();
    const result = await sandbox.runScript("echo started; sleep 30; echo never", 2_000, never);
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(124);
    expect(result.stdout).not.toContain("never");
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([sandbox.id]);
  });

  it("reports ZAP as skipped when its image is not on the runner", async () => {
    expect(await sandbox.securityScan(never)).toEqual({
      status: "skipped",
      reason: "ZAP image ghcr.io/zaproxy/zaproxy:stable is not available on this runner",
    });
  });

  it("stops at once (no graceful exit is needed without coverage) with a complete trace from the first exec", async () => {
    stopped = await sandbox.stop();
    // app.py exits 0 on SIGTERM: 137 shows it was killed without one, and that it was still running.
    expect(stopped.exitCode).toBe(137);
    expect(stopped.wasRunning).toBe(true);
    expect(stopped.oomKilled).toBe(false);
    expect(stopped.coverage).toEqual({ supported: false, reason: "not supported for this runtime" });
    expect(stopped.trace.from_first_exec).toBe(true);
    expect(stopped.trace.complete).toBe(true);
    expect(stopped.trace.execs[0]).toMatchObject({ path: "/usr/bin/python3.11", argv: ["/usr/bin/python3.11", "/srv/app.py"], ok: true });
    expect(stopped.trace.connections).toContainEqual(expect.objectContaining({ syscall: "listen", port: 8080, ok: true }));
    // accept is not traced: it would stop the service once per request (issue #22).
    expect(stopped.trace.connections.filter((c) => c.syscall === "accept")).toEqual([]);
    // stop() is idempotent
    expect(await sandbox.stop()).toBe(stopped);
  });

  it("shows the used libraries mapped executable and the unused packages untouched", () => {
    const touched = touchedFiles(stopped.trace, fs);
    const owned = (pkg: string) => packageFiles(fs, pkg);
    const hits = (pkg: string) => [...owned(pkg)].filter((p) => touched.has(p));
    // Positive controls: the same check finds the packages the service does use.
    expect(hits("libssl3")).toContain("/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
    expect(hits("zlib1g").length).toBeGreaterThan(0);
    expect(hits("python3.11-minimal")).toContain("/usr/bin/python3.11");
    const execMapped = new Set(stopped.trace.mmaps.filter((m) => m.exec).map((m) => canonical(fs, m.path)));
    expect(execMapped.has("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")).toBe(true);
    // Installed but never used.
    expect(owned("libsqlite3-0").size).toBeGreaterThan(0);
    expect(owned("bzip2").size).toBeGreaterThan(0);
    expect(hits("libsqlite3-0")).toEqual([]);
    expect(hits("bzip2")).toEqual([]);
  });

  it("destroy removes every container and the job's temp dir", async () => {
    const workDir = (sandbox as unknown as { settings: { workDir: string } }).settings.workDir;
    expect(existsSync(workDir)).toBe(true);
    await sandbox.destroy();
    await sandbox.destroy(); // idempotent
    expect(containersWithLabel(`vexxy.job-id=${spec.jobId}`)).toEqual([]);
    expect(containersWithLabel(`vexxy.runner=${runnerId}`)).toEqual([]);
    expect(existsSync(workDir)).toBe(false);
    expect(script.stderr).not.toContain("output truncated");
  });
});

/** Every image file the trace shows used (exec'd, opened, mapped), with symlinks resolved. */
function touchedFiles(trace: RuntimeTrace, fs: ImageFilesystemSnapshot): Set<string> {
  const paths = [
    ...trace.execs.filter((e) => e.ok).map((e) => e.path),
    ...trace.opens.filter((o) => o.ok).map((o) => o.path),
    ...trace.mmaps.map((m) => m.path),
  ];
  return new Set(paths.map((p) => canonical(fs, p)));
}

/** Files a dpkg package installs (from its .list), canonicalised like the trace paths. */
function packageFiles(fs: ImageFilesystemSnapshot, pkg: string): Set<string> {
  const list = fs.files.get(`/var/lib/dpkg/info/${pkg}.list`) ?? fs.files.get(`/var/lib/dpkg/info/${pkg}:amd64.list`);
  if (!list) throw new Error(`no dpkg file list for ${pkg}`);
  // bookworm's .list files name /lib/...; in the usr-merged image /lib is a symlink to usr/lib.
  return new Set(
    list
      .split("\n")
      .filter(Boolean)
      .map((p) => canonical(fs, p))
      .filter((p) => fs.paths.has(p) && !isDir(fs, p)),
  );
}

function isDir(fs: ImageFilesystemSnapshot, path: string): boolean {
  const prefix = path.endsWith("/") ? path : `${path}/`;
  for (const p of fs.paths) if (p.startsWith(prefix)) return true;
  return false;
}

function canonical(fs: ImageFilesystemSnapshot, path: string): string {
  let parts = path.split("/").filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length > 0 && hops < 64; ) {
    const part = parts.shift()!;
    const here = "/" + [...done, part].join("/");
    const link = fs.symlinks.get(here);
    if (link !== undefined) {
      hops++;
      if (link.startsWith("/")) done.length = 0;
      parts = [...link.split("/").filter(Boolean), ...parts];
      continue;
    }
    if (part === "..") done.pop();
    else if (part !== ".") done.push(part);
  }
  return posix.normalize("/" + done.join("/"));
}

/**
 * What the podman driver says when its host lacks something: the real runner started with a PATH
 * that has no podman (its /healthz and a job's fail callback name it and the fix), the driver's own
 * checks (no strace, not root), and a prober image that is missing and cannot be built here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FailCallbackSchema } from "@vexxy/contract";
import { PodmanDriver } from "../../src/drivers/podman/driver.js";
import { findOnPath } from "../../src/drivers/podman/host-check.js";
import { SandboxError } from "../../src/drivers/types.js";
import { SECRET } from "../support/harness.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";
import { WorkerReceiver } from "../support/worker-receiver.js";
import { ensureImages, PROBER_REF, skipReason } from "./images.js";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const tsx = fileURLToPath(new URL("../../../node_modules/.bin/tsx", import.meta.url));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory to use as PATH, holding `names` (executables that do nothing) and `links` (to real commands). */
function pathWith(names: string[], links: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "vexxy-path-"));
  dirs.push(dir);
  for (const n of names) {
    writeFileSync(join(dir, n), "#!/bin/sh\nexit 0\n");
    chmodSync(join(dir, n), 0o755);
  }
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  return dir;
}

describe("a runner whose PATH has no podman", () => {
  let child: ChildProcess | undefined;
  let worker: WorkerReceiver | undefined;
  afterEach(async () => {
    child?.kill("SIGKILL");
    await worker?.close();
  });

  /** Starts src/main.ts with PATH holding node only; resolves with its URL from its "runner listening" log line. */
  async function startRunner(): Promise<string> {
    worker = await new WorkerReceiver(SECRET).start();
    const path = pathWith([], { node: process.execPath });
    child = spawn(tsx, [main], {
      env: { PATH: path, RUNNER_SECRET: SECRET, RUNNER_PORT: "0", RUNNER_HOST: "127.0.0.1", WORKER_URL: worker.url, RUNNER_ID: `readiness-${process.pid}` },
      stdio: ["ignore", "ignore", "pipe"],
    });
    // Its log (JSON lines) goes to stderr.
    const log: string[] = [];
    return new Promise((resolve, reject) => {
      createInterface({ input: child!.stderr! }).on("line", (line) => {
        log.push(line);
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "runner listening" && entry.url) resolve(entry.url);
      });
      child!.on("exit", (code) => reject(new Error(`the runner exited (${code}): ${log.join("\n")}`)));
    });
  }

  it("starts, says on /healthz that analyses cannot run and why, and fails a job as sandbox_unavailable naming podman", async () => {
    const url = await startRunner();
    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; analyses: { can_run: boolean; reasons: string[] } };
    expect(health.status).toBe("ok");
    expect(health.analyses.can_run).toBe(false);
    expect(health.analyses.reasons).toContain(
      "sandbox driver: podman, runc, nsenter are not installed (not on the runner's PATH) (fix: apt-get install -y podman runc slirp4netns util-linux)",
    );
    expect(health.analyses.reasons).toContain("tracer: strace is not installed (not on the runner's PATH) (fix: apt-get install -y strace)");

    const job = makeJob();
    expect((await dispatch(url, SECRET, job)).status).toBe(202);
    const fail = FailCallbackSchema.parse((await worker!.final(job.job_id, 30_000)).body);
    expect(fail).toMatchObject({ error_code: "sandbox_unavailable", fault: "service", sandbox_ran: false, sandbox_seconds: 0 });
    expect(fail.error_message).toContain("podman, runc, nsenter are not installed");
    expect(fail.error_message).toContain("fix: apt-get install -y podman runc slirp4netns util-linux");
    expect(fail.error_message).not.toContain("ENOENT");
  });
});

describe("the podman driver's host checks", () => {
  it("names the tracer when strace is missing, and root when the runner is not root", async () => {
    const path = pathWith(["podman", "runc", "nsenter"]);
    const noStrace = new PodmanDriver({ host: () => ({ path, uid: 0 }) });
    expect(noStrace.readiness().slice(0, 2)).toEqual([
      { name: "sandbox driver", status: "ok", detail: "podman (runc) as root" },
      { name: "tracer", status: "missing", detail: "strace is not installed (not on the runner's PATH)", fix: "apt-get install -y strace" },
    ]);
    const err = await noStrace.whenReady({ testScript: false }, new AbortController().signal, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe("sandbox_unavailable");
    expect((err as SandboxError).message).toContain("tracer: strace is not installed (not on the runner's PATH); fix: apt-get install -y strace");

    const notRoot = new PodmanDriver({ host: () => ({ path: pathWith(["podman", "runc", "nsenter", "strace"]), uid: 1000 }) });
    expect(notRoot.readiness()[0]).toMatchObject({ status: "missing", detail: expect.stringContaining("uid 1000"), fix: "sudo npm start" });
  });
});

describe.skipIf(skipReason)("a prober image that is missing", () => {
  // The real host tools, but no debootstrap: the image cannot be built here.
  const tools = () => Object.fromEntries(["podman", "runc", "nsenter", "strace"].map((c) => [c, findOnPath(c, process.env.PATH ?? "")!]));
  const absent = () => `localhost/vexxy-readiness-test/absent-${randomUUID().slice(0, 8)}:latest`;

  it("is reported with the command that lets the runner build it, and fails test-script jobs as sandbox_unavailable", async () => {
    const image = absent();
    const path = pathWith([], tools());
    const cacheDir = join(dirs[dirs.length - 1]!, "debs");
    const driver = new PodmanDriver({ proberImage: image, proberBuild: { mirror: "http://deb.debian.org/debian", cacheDir }, host: () => ({ path, uid: 0 }) });
    await driver.prepare();
    const prober = driver.readiness().find((c) => c.name === "prober image")!;
    expect(prober).toMatchObject({
      status: "missing",
      detail: `the prober image ${image} (where test scripts run) is missing and the runner could not build it: building it needs debootstrap, which is not installed`,
      fix: "apt-get install -y debootstrap, then restart the runner (npm start)",
    });
    const signal = new AbortController().signal;
    let held = false;
    const err = await driver.whenReady({ testScript: true }, signal, () => (held = true)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe("sandbox_unavailable");
    expect((err as SandboxError).message).toContain(`the prober image ${image}`);
    expect((err as SandboxError).message).toContain("fix: apt-get install -y debootstrap");
    expect(held).toBe(false);
    // Jobs without a test script do not need it.
    await expect(driver.whenReady({ testScript: false }, signal, () => {})).resolves.toBeUndefined();
  });

  it("names test-images/build.sh when the runner is told not to build it, and is ok once present", async () => {
    const path = pathWith([], tools());
    const image = absent();
    const unbuilt = new PodmanDriver({ proberImage: image, host: () => ({ path, uid: 0 }) });
    await unbuilt.prepare();
    expect(unbuilt.readiness().find((c) => c.name === "prober image")).toMatchObject({ status: "missing", fix: "sandbox-runner/test-images/build.sh" });

    ensureImages();
    const present = new PodmanDriver({ proberImage: PROBER_REF, host: () => ({ path, uid: 0 }) });
    await present.whenReady({ testScript: true }, new AbortController().signal, () => {});
    expect(present.readiness().find((c) => c.name === "prober image")).toEqual({ name: "prober image", status: "ok", detail: PROBER_REF, onlyForTestScripts: true });
  });
});

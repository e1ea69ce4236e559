/** Each failure mode ends in a clear SandboxError (or result) and leaves no object behind. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { KubernetesDriver } from "../../../src/drivers/kubernetes/driver.js";
import { LABEL } from "../../../src/drivers/kubernetes/names.js";
import { SandboxError } from "../../../src/drivers/types.js";
import type { FakeKube } from "../../fake-kube/control.js";
import type { Obj } from "../../fake-kube/store.js";
import { driverFor, fakeLookup, LIMITS, NS, role, spec, startFake, stopFake, until } from "../harness.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const never = () => new AbortController().signal;

async function rejection(p: Promise<unknown>): Promise<SandboxError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SandboxError);
  return err as SandboxError;
}

describe("kubernetes driver: failure modes", () => {
  let fake: FakeKube;
  let driver: KubernetesDriver;
  beforeAll(async () => {
    fake = await startFake();
    driver = driverFor(fake);
  });
  afterEach(() => {
    fake.podCreated = () => undefined;
    fake.podTerminating = () => undefined;
  });
  afterAll(async () => {
    await driver.close();
    await stopFake(fake);
  });
  const targetStarts = (ready: boolean) => (pod: Obj) => {
    if (role(pod) !== "target") return;
    fake.startPod(NS, pod.metadata.name);
    if (ready) fake.setReady(NS, pod.metadata.name, "target");
  };

  it("reports an image pull failure as image_unavailable and cleans up", async () => {
    fake.podCreated = (pod) => {
      if (role(pod) === "target") fake.setWaiting(NS, pod.metadata.name, "target", "ErrImagePull", "manifest unknown");
    };
    const err = await rejection(driver.start(spec(id(1)), LIMITS, never()));
    expect(err.code).toBe("image_unavailable");
    expect(err.message).toContain(`nginx@sha256:${"f".repeat(64)}`);
    expect(err.message).toContain("ErrImagePull");
    expect(err.message).toContain("could not be pulled: not found");
    expect(fake.labelled(LABEL.jobId, id(1))).toEqual([]);
  });

  it("tells a pull failure as a short reason, never the kubelet's network words", async () => {
    fake.podCreated = (pod) => {
      if (role(pod) === "target") {
        fake.setWaiting(NS, pod.metadata.name, "target", "ErrImagePull", 'failed to do request: Head "https://10.0.0.1:5000/v2/x/manifests/sha256:ff": dial tcp 10.0.0.1:5000: connect: connection refused');
      }
    };
    const err = await rejection(driver.start(spec(id(21)), LIMITS, never()));
    expect(err.message).toMatch(/could not be pulled: registry unreachable/);
    expect(err.message).not.toMatch(/dial|10\.0\.0\.1|refused/);
  });

  it("refuses a registry that is, or resolves to, an internal address before creating anything", async () => {
    const rebinding = driverFor(fake, {}, fakeLookup({ "registry.rebind.example": ["10.0.0.7"] }));
    try {
      for (const imageRef of ["registry.rebind.example/app:1", "169.254.169.254/app:1", "registry:5000/app:1"]) {
        const err = await rejection(rebinding.prepareImage(spec(id(22), { imageRef }), never()));
        expect(err.code, imageRef).toBe("image_unavailable");
        expect(err.message).toContain("is not allowed");
      }
      const allowed = driverFor(fake, { allowedRegistries: new Set(["registry.rebind.example:443"]) }, fakeLookup({ "registry.rebind.example": ["10.0.0.7"] }));
      await allowed.prepareImage(spec(id(23), { imageRef: "registry.rebind.example/app:1" }), never());
      await allowed.close();
      expect(fake.labelled(LABEL.jobId, id(22))).toEqual([]);
    } finally {
      await rebinding.close();
    }
  });

  it("reports ImagePullBackOff the same way", async () => {
    fake.podCreated = (pod) => {
      if (role(pod) === "target") fake.setWaiting(NS, pod.metadata.name, "target", "ImagePullBackOff", "Back-off pulling image");
    };
    expect((await rejection(driver.start(spec(id(2)), LIMITS, never()))).code).toBe("image_unavailable");
    expect(fake.labelled(LABEL.jobId, id(2))).toEqual([]);
  });

  it("reports an unschedulable pod once its grace period has passed", async () => {
    fake.podCreated = (pod) => {
      if (role(pod) === "target") fake.setUnschedulable(NS, pod.metadata.name, "0/3 nodes are available: 3 Insufficient memory.");
    };
    const err = await rejection(driver.start(spec(id(3)), LIMITS, never()));
    expect(err.code).toBe("sandbox_start_failed");
    expect(err.message).toMatch(/Unschedulable.*Insufficient memory/);
    expect(fake.labelled(LABEL.jobId, id(3))).toEqual([]);
  });

  it("reports an OOM kill from waitHealthy and stop()", async () => {
    fake.podCreated = targetStarts(false);
    const sandbox = await driver.start(spec(id(4)), LIMITS, never());
    const pod = fake.jobPod(NS, `vx-${id(4)}`)!;
    fake.terminate(NS, pod.metadata.name, "target", { exitCode: 137, reason: "OOMKilled" });
    expect((await rejection(sandbox.waitHealthy(5000, never()))).code).toBe("oom_killed");
    const stopped = await sandbox.stop();
    expect(stopped).toMatchObject({ oomKilled: true, exitCode: 137 });
    expect(stopped.trace.complete).toBe(false); // the sidecar printed no trace block
    await sandbox.destroy();
    expect(fake.labelled(LABEL.jobId, id(4))).toEqual([]);
  });

  it("reports the Job's DeadlineExceeded condition as a timeout", async () => {
    fake.podCreated = targetStarts(false);
    const sandbox = await driver.start(spec(id(5), { timeoutSeconds: 120 }), LIMITS, never());
    expect(fake.store.get("jobs", NS, `vx-${id(5)}`)!.spec.activeDeadlineSeconds).toBe(120);
    const healthy = sandbox.waitHealthy(60_000, never());
    fake.exceedJobDeadline(NS, `vx-${id(5)}`);
    const err = await rejection(healthy);
    expect(err.code).toBe("timeout");
    expect(err.message).toContain("120s");
    await sandbox.destroy();
    expect(fake.labelled(LABEL.jobId, id(5))).toEqual([]);
  });

  it("answers unhealthy (not an error) when the application never becomes ready in time", async () => {
    fake.podCreated = targetStarts(false);
    const sandbox = await driver.start(spec(id(6)), LIMITS, never());
    const result = await sandbox.waitHealthy(50, never());
    expect(result.healthy).toBe(false);
    expect(result.reason).toMatch(/did not accept connections/);
    await sandbox.destroy();
  });

  it("retries as root, still without capabilities, when kubelet refuses runAsNonRoot", async () => {
    const seen: boolean[] = [];
    fake.podCreated = (pod) => {
      if (role(pod) !== "target") return;
      const nonRoot = pod.spec.securityContext?.runAsNonRoot === true;
      seen.push(nonRoot);
      if (nonRoot) fake.setWaiting(NS, pod.metadata.name, "target", "CreateContainerConfigError", "container has runAsNonRoot and image will run as root");
      else targetStarts(true)(pod);
    };
    const sandbox = await driver.start(spec(id(7)), LIMITS, never());
    expect(seen).toEqual([true, false]);
    const pod = fake.jobPod(NS, `vx-${id(7)}`)!;
    expect(pod.spec.containers[0].securityContext).toMatchObject({ capabilities: { drop: ["ALL"] }, allowPrivilegeEscalation: false });
    await sandbox.destroy();
  });

  it("maps a 422 from the API server to sandbox_start_failed and deletes the Job", async () => {
    fake.failNext({ verb: "create", resource: "networkpolicies" }, 422);
    const err = await rejection(driver.start(spec(id(8)), LIMITS, never()));
    expect(err.code).toBe("sandbox_start_failed");
    expect(fake.labelled(LABEL.jobId, id(8))).toEqual([]);
  });

  it("maps a 403 to an internal error naming RBAC", async () => {
    fake.failNext({ verb: "create", resource: "jobs" }, 403);
    const err = await rejection(driver.start(spec(id(9)), LIMITS, never()));
    expect(err.code).toBe("internal");
    expect(err.message).toContain("RBAC");
  });

  it("refuses a reference pinned to another digest before creating anything", async () => {
    const s = spec(id(10), { imageRef: `nginx@sha256:${"0".repeat(64)}` });
    expect((await rejection(driver.prepareImage(s, never()))).code).toBe("digest_mismatch");
    expect(fake.labelled(LABEL.jobId, id(10))).toEqual([]);
  });

  it("cancels a start that is still pending and removes everything", async () => {
    const ctl = new AbortController();
    const started = driver.start(spec(id(11)), LIMITS, ctl.signal);
    await until(() => fake.jobPod(NS, `vx-${id(11)}`) !== undefined, "the target pod");
    ctl.abort(new Error("cancelled by user"));
    await expect(started).rejects.toThrow("cancelled by user");
    expect(fake.labelled(LABEL.jobId, id(11))).toEqual([]);
  });

  it("cancels a running script: the prober pod is deleted", async () => {
    fake.podCreated = (pod) => {
      if (role(pod) === "target") targetStarts(true)(pod);
      if (role(pod) === "prober") fake.startPod(NS, pod.metadata.name); // never finishes
    };
    const sandbox = await driver.start(spec(id(12)), LIMITS, never());
    const ctl = new AbortController();
    const run = sandbox.runScript("sleep 1000", 60_000, ctl.signal);
    await until(() => fake.pods(NS, (p) => role(p) === "prober").length === 1, "the prober pod");
    ctl.abort(new Error("cancelled"));
    await expect(run).rejects.toThrow("cancelled");
    expect(fake.pods(NS, (p) => role(p) === "prober")).toEqual([]);
    await sandbox.destroy();
    expect(fake.labelled(LABEL.jobId, id(12))).toEqual([]);
  });

  it("restarts its watch after an error and still sees pod transitions", async () => {
    fake.podCreated = targetStarts(false);
    const sandbox = await driver.start(spec(id(13)), LIMITS, never());
    const before = driver.watches.pods.restarts;
    fake.failNext({ verb: "watch", resource: "pods" }, 500, 2);
    fake.closeWatches();
    const healthy = sandbox.waitHealthy(10_000, never());
    await until(() => driver.watches.pods.restarts >= before + 1, "an informer restart");
    fake.setReady(NS, fake.jobPod(NS, `vx-${id(13)}`)!.metadata.name, "target");
    expect(await healthy).toEqual({ healthy: true });
    await sandbox.destroy();
  });
});

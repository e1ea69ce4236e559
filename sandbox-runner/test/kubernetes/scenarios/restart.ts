/** Runner restart mid-job: leftovers are swept by label, a redelivered job replaces its old objects. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../../src/drivers/kubernetes/names.js";
import type { FakeKube } from "../../fake-kube/control.js";
import { driverFor, LIMITS, NS, role, spec, startFake, stopFake } from "../harness.js";

const JOB_A = "aaaaaaaa-0000-4000-8000-000000000001";
const JOB_B = "aaaaaaaa-0000-4000-8000-000000000002";
const never = () => new AbortController().signal;

describe("kubernetes driver: runner restart", () => {
  let fake: FakeKube;
  beforeAll(async () => {
    fake = await startFake();
    fake.podCreated = (pod) => {
      if (role(pod) !== "target") return;
      fake.startPod(NS, pod.metadata.name);
      fake.setReady(NS, pod.metadata.name, "target");
    };
  });
  afterAll(() => stopFake(fake));

  it("a new process of the same runner sweeps what the crashed one left", async () => {
    const crashed = driverFor(fake, { runnerId: "runner-a" });
    await crashed.start(spec(JOB_A), LIMITS, never());
    await crashed.close(); // the process dies: no stop(), no destroy()
    expect(fake.labelled(LABEL.jobId, JOB_A).map((o) => o.resource).sort()).toEqual(["jobs", "networkpolicies", "networkpolicies", "pods", "services"]);

    const other = driverFor(fake, { runnerId: "runner-b" });
    expect(await other.sweepOrphans()).toBe(0); // another runner's job within its deadline is not an orphan
    expect(fake.labelled(LABEL.jobId, JOB_A)).not.toEqual([]);
    await other.close();

    const restarted = driverFor(fake, { runnerId: "runner-a" });
    expect(await restarted.sweepOrphans()).toBe(1); // the Job; its dependents cascade
    expect(fake.labelled(LABEL.jobId, JOB_A)).toEqual([]);
    await restarted.close();
  });

  it("never touches another runner's objects, even past their deadline; its own dependents without a Job go", async () => {
    const crashed = driverFor(fake, { runnerId: "runner-gone" });
    await crashed.start(spec(JOB_A, { timeoutSeconds: 60 }), LIMITS, never());
    await crashed.close();
    fake.store.update("jobs", NS, `vx-${JOB_A}`, (j) => {
      j.metadata.creationTimestamp = new Date(Date.now() - 3600_000).toISOString();
    });
    // dependents whose Job was deleted with the default (orphaning) policy: one another runner's, one ours
    const stray = (name: string, runner: string) =>
      fake.store.create("configmaps", NS, { metadata: { name, labels: { [LABEL.managedBy]: "vexxy-sandbox-runner", [LABEL.jobId]: JOB_B, [LABEL.runner]: runner } } });
    stray("vx-stray-other", "runner-gone");
    stray("vx-stray-mine", "runner-b");
    const sweeper = driverFor(fake, { runnerId: "runner-b" });
    expect(await sweeper.sweepOrphans()).toBe(1);
    // Kubernetes ends and removes the gone runner's Job itself (activeDeadlineSeconds, ttlSecondsAfterFinished).
    expect(fake.labelled(LABEL.jobId, JOB_A)).not.toEqual([]);
    expect(fake.labelled(LABEL.jobId, JOB_B).map((o) => o.name)).toEqual(["vx-stray-other"]);
    await sweeper.close();
    const original = driverFor(fake, { runnerId: "runner-gone" });
    expect(await original.sweepOrphans()).toBeGreaterThanOrEqual(2); // its Job and its stray dependent
    expect(fake.labelled(LABEL.jobId, JOB_A)).toEqual([]);
    expect(fake.labelled(LABEL.jobId, JOB_B)).toEqual([]);
    await original.close();
  });

  it("a redelivered job replaces the previous attempt's Job (409) and runs fresh", async () => {
    const first = driverFor(fake, { runnerId: "runner-a" });
    await first.start(spec(JOB_B), LIMITS, never());
    const oldUid = fake.store.get("jobs", NS, `vx-${JOB_B}`)!.metadata.uid;
    await first.close();

    const second = driverFor(fake, { runnerId: "runner-b" });
    const sandbox = await second.start(spec(JOB_B), LIMITS, never());
    const job = fake.store.get("jobs", NS, `vx-${JOB_B}`)!;
    expect(job.metadata.uid).not.toBe(oldUid);
    expect(job.metadata.labels?.[LABEL.runner]).toBe("runner-b");
    expect(fake.calls.some((c) => c.verb === "delete" && c.resource === "jobs" && c.name === `vx-${JOB_B}`)).toBe(true);
    const pods = fake.pods(NS, (p) => p.metadata.labels?.[LABEL.jobId] === JOB_B);
    expect(pods).toHaveLength(1);
    expect(pods[0]!.metadata.ownerReferences?.[0]?.uid).toBe(job.metadata.uid);
    expect(await sandbox.waitHealthy(5000, never())).toEqual({ healthy: true });
    await sandbox.destroy();
    expect(fake.labelled(LABEL.jobId, JOB_B)).toEqual([]);
    await second.close();
  });

  it("replaces a dependent left by an orphaning delete (409 on create)", async () => {
    const d = driverFor(fake, { runnerId: "runner-a" });
    fake.store.create("services", NS, { metadata: { name: `vx-${JOB_A}` }, spec: { ports: [{ port: 80 }] } });
    const sandbox = await d.start(spec(JOB_A), LIMITS, never());
    const svc = fake.store.get("services", NS, `vx-${JOB_A}`)!;
    expect(svc.metadata.ownerReferences?.[0]?.uid).toBe(fake.store.get("jobs", NS, `vx-${JOB_A}`)!.metadata.uid);
    await sandbox.destroy();
    expect(fake.store.get("services", NS, `vx-${JOB_A}`)).toBeUndefined();
    await d.close();
  });
});

/** Tracer (2): the Kubescape node-agent's ContainerProfile becomes the sandbox's trace. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeKube } from "../../fake-kube/control.js";
import type { Obj } from "../../fake-kube/store.js";
import { driverFor, LIMITS, NS, role, spec, startFake, stopFake } from "../harness.js";
import { fixturePath } from "../../support/fixtures.js";

const FIXTURE = fixturePath("kubescape/nginx-1.14-container-profile.json");
const JOB = "cccccccc-0000-4000-8000-000000000001";
const never = () => new AbortController().signal;

/** The fixture as the node-agent would label it for this Job's target container. */
function profileFor(jobName: string, status: string): Obj {
  const doc = JSON.parse(readFileSync(FIXTURE, "utf8")) as Obj;
  doc.metadata = {
    name: `job-${jobName}-target`,
    labels: {
      ...doc.metadata.labels,
      "kubescape.io/workload-kind": "Job",
      "kubescape.io/workload-name": jobName,
      "kubescape.io/workload-namespace": NS,
      "kubescape.io/workload-container-name": "target",
    },
    annotations: { ...doc.metadata.annotations, "kubescape.io/status": status },
  };
  return doc;
}

describe("kubernetes driver: Kubescape tracer", () => {
  let fake: FakeKube;
  beforeAll(async () => {
    fake = await startFake();
    fake.enableKubescape();
    fake.podCreated = (pod) => {
      if (role(pod) !== "target") return;
      fake.startPod(NS, pod.metadata.name);
      fake.setReady(NS, pod.metadata.name, "target");
    };
  });
  afterAll(() => stopFake(fake));

  it("adds no sidecar and no ptrace capability to the pod", async () => {
    const driver = driverFor(fake, { tracer: "kubescape" });
    const sandbox = await driver.start(spec(JOB), LIMITS, never());
    const pod = fake.jobPod(NS, `vx-${JOB}`)!;
    expect(pod.spec.initContainers ?? []).toEqual([]);
    expect(pod.spec.shareProcessNamespace).toBeUndefined();
    // the node-agent publishes a still-learning profile, then the completed one after the container exits
    fake.store.create("containerprofiles", NS, profileFor(`vx-${JOB}`, "ready"));
    fake.podTerminating = (p) => {
      if (role(p) === "target") {
        queueMicrotask(() =>
          fake.store.update("containerprofiles", NS, `job-vx-${JOB}-target`, (o) => {
            o.metadata.annotations = { ...o.metadata.annotations, "kubescape.io/status": "completed" };
          }),
        );
      }
    };
    const { trace } = await sandbox.stop();
    expect(trace.source).toBe("kubescape");
    expect(trace.complete).toBe(true);
    expect(trace.execs.map((e) => e.path)).toContain("/usr/sbin/nginx");
    expect(trace.opens.map((o) => o.path)).toContain("/etc/nginx/conf.d/default.conf");
    expect(fake.calls.some((c) => c.verb === "watch" && c.resource === "containerprofiles")).toBe(true);
    await sandbox.destroy();
    await driver.close();
  });

  it("falls back to the workload's ApplicationProfile, and to an incomplete empty trace", async () => {
    const driver = driverFor(fake, { tracer: "kubescape", kubescapeProfileWaitSeconds: 0 });
    const job2 = "cccccccc-0000-4000-8000-000000000002";
    const sandbox = await driver.start(spec(job2), LIMITS, never());
    const { trace } = await sandbox.stop();
    expect(trace).toMatchObject({ source: "kubescape", complete: false, execs: [] });
    expect(fake.calls.some((c) => c.verb === "list" && c.resource === "applicationprofiles")).toBe(true);
    await sandbox.destroy();
    await driver.close();
  });
});

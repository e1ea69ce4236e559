/** Job success end to end: start, health, script, probe, ZAP, stop with trace, destroy. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL, TRACER_CONTAINER } from "../../../src/drivers/kubernetes/names.js";
import type { KubernetesDriver } from "../../../src/drivers/kubernetes/driver.js";
import type { FakeKube } from "../../fake-kube/control.js";
import type { Obj } from "../../fake-kube/store.js";
import { driverFor, LIMITS, NS, role, sidecarDump, spec, startFake, stopFake, STRACE_NGINX } from "../harness.js";

const JOB = "0b6f3c1e-5d2a-4c1b-9a57-1f2e3d4c5b6a";
const ZAP_REPORT = { "@version": "2.15.0", site: [{ "@name": "http://10.96.0.1:80", alerts: [{ pluginid: "10021", riskcode: "1" }] }] };

/** A kubelet that runs everything successfully. */
function happyKubelet(fake: FakeKube, seen: { scripts: string[] }) {
  fake.podCreated = (pod: Obj) => {
    const name = pod.metadata.name;
    if (role(pod) === "target") {
      fake.startPod(NS, name);
      fake.appendLog(NS, name, "target", "nginx started\n");
      fake.setReady(NS, name, "target");
    }
    if (role(pod) === "prober") {
      const cmName = pod.spec.volumes.find((v: { name: string }) => v.name === "script").configMap.name;
      const script = fake.store.get("configmaps", NS, cmName)?.data?.["script.sh"] ?? "";
      seen.scripts.push(script);
      fake.startPod(NS, name);
      if (script.includes("VEXXY-PROBE")) fake.appendLog(NS, name, "prober", "VEXXY-PROBE 80 1 HTTP 200\n");
      else fake.appendLog(NS, name, "prober", "GET / 200\n");
      fake.terminate(NS, name, "prober", { exitCode: 0 });
    }
    if (role(pod) === "zap") {
      fake.startPod(NS, name);
      fake.appendLog(NS, name, "zap", "ZAP is now listening\nVEXXY-ZAP-REPORT-BEGIN rc=0\n");
      fake.appendLog(NS, name, "zap", Buffer.from(JSON.stringify(ZAP_REPORT)).toString("base64").replace(/(.{76})/g, "$1\n") + "\n");
      fake.appendLog(NS, name, "zap", "VEXXY-ZAP-REPORT-END\n");
      fake.terminate(NS, name, "zap", { exitCode: 0 });
    }
  };
  fake.podTerminating = (pod: Obj) => {
    if (role(pod) !== "target") return;
    fake.appendLog(NS, pod.metadata.name, TRACER_CONTAINER, "attached\n" + sidecarDump({ "t.7": STRACE_NGINX }, { from_first_exec: "1", complete: "1", duration_ms: "4200" }));
  };
}

describe("kubernetes driver: a successful job", () => {
  let fake: FakeKube;
  let driver: KubernetesDriver;
  const seen = { scripts: [] as string[] };

  beforeAll(async () => {
    fake = await startFake_();
    driver = driverFor(fake);
  });
  afterAll(async () => {
    await driver.close();
    await stopFake(fake);
  });
  async function startFake_() {
    const f = await startFake();
    happyKubelet(f, seen);
    return f;
  }

  it("runs the whole sandbox lifecycle and leaves nothing behind", async () => {
    const signal = new AbortController().signal;
    await driver.prepareImage(spec(JOB), signal);
    const sandbox = await driver.start(spec(JOB), LIMITS, signal);

    const job = fake.store.get("jobs", NS, `vx-${JOB}`)!;
    expect(job.spec.template.spec.containers[0].image).toBe(`docker.io/library/nginx@sha256:${"f".repeat(64)}`);
    expect(fake.store.get("networkpolicies", NS, `vx-${JOB}-target`)).toBeDefined();
    expect(fake.store.get("networkpolicies", NS, `vx-${JOB}-clients`)).toBeDefined();
    const svc = fake.store.get("services", NS, `vx-${JOB}`)!;
    for (const o of [svc, fake.store.get("networkpolicies", NS, `vx-${JOB}-target`)!]) {
      expect(o.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Job", uid: job.metadata.uid });
    }
    expect(sandbox.startedAt).toBeInstanceOf(Date);

    expect(await sandbox.waitHealthy(5000, signal)).toEqual({ healthy: true });

    const script = await sandbox.runScript("curl -fsS localhost:80/", 60_000, signal);
    expect(script).toMatchObject({ exitCode: 0, stdout: "GET / 200\n", timedOut: false });
    expect(seen.scripts).toContain("curl -fsS localhost:80/");
    const prober = fake.calls.find((c) => c.verb === "create" && c.resource === "pods");
    expect(prober).toBeDefined();
    expect(fake.pods(NS, (p) => role(p) === "prober")).toHaveLength(0); // deleted after the run

    expect(await sandbox.probe(signal)).toEqual([{ port: 80, answered: true, detail: "HTTP 200" }]);

    const zap = await sandbox.securityScan(signal);
    expect(zap).toEqual({ status: "completed", report: ZAP_REPORT });
    const plan = fake.history("configmaps", `vx-${JOB}-zap`)?.data?.["plan.yaml"];
    expect(JSON.parse(plan!).env.contexts[0].urls).toEqual([`http://${svc.spec.clusterIP}:80/`]);

    const stopped = await sandbox.stop();
    expect(stopped.oomKilled).toBe(false);
    expect(stopped.exitCode).toBe(143);
    expect(stopped.trace.source).toBe("strace");
    expect(stopped.trace.from_first_exec).toBe(true);
    expect(stopped.trace.complete).toBe(true);
    expect(stopped.trace.duration_ms).toBe(4200);
    expect(stopped.trace.execs.map((e) => e.path)).toContain("/usr/sbin/nginx");
    expect(await sandbox.stop()).toBe(stopped); // idempotent

    await sandbox.destroy();
    await sandbox.destroy();
    expect(fake.labelled(LABEL.jobId, JOB)).toEqual([]);
    // the Job was deleted with cascading propagation, not left to orphan its dependents
    expect(fake.calls.filter((c) => c.verb === "delete" && c.resource === "jobs")).toHaveLength(1);
  });
});

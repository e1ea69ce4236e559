/**
 * The test-control API: a minimal Job controller (one pod per Job, status and conditions) and the
 * kubelet's part, driven explicitly by tests (`startPod`, `setWaiting`, `terminate`, …). Pods never
 * progress on their own, so no test waits on time.
 */
import { randomBytes } from "node:crypto";
import { FakeKubeServer } from "./server.js";
import type { Obj } from "./store.js";

const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

type ContainerSpec = { name: string; restartPolicy?: string; readinessProbe?: unknown };

export interface TerminateOptions {
  exitCode?: number;
  reason?: string;
}

export class FakeKube extends FakeKubeServer {
  /** Called after a pod is created (by a client or by the Job controller). */
  podCreated: (pod: Obj) => void = () => undefined;
  /** Called when a pod is being deleted, before its containers are terminated. */
  podTerminating: (pod: Obj) => void = () => undefined;

  constructor() {
    super();
    this.onCreated = (resource, obj) => {
      if (resource === "jobs" && !obj.spec?.suspend) this.jobCreatesPod(obj);
      if (resource === "pods") queueMicrotask(() => this.podCreated(obj));
    };
    this.onDeletePod = (pod) => {
      this.podTerminating(pod);
      this.terminateAll(pod.metadata.namespace!, pod.metadata.name, { exitCode: 143, reason: "Error" });
    };
  }

  private jobCreatesPod(job: Obj): void {
    const ns = job.metadata.namespace!;
    const tmpl = job.spec.template;
    const uid = job.metadata.uid!;
    const name = `${job.metadata.name}-${randomBytes(3).toString("hex").slice(0, 5)}`;
    const labels = { ...(tmpl.metadata?.labels ?? {}), "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job.metadata.name, "controller-uid": uid, "job-name": job.metadata.name };
    const pod = this.store.create("pods", ns, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name,
        labels,
        ownerReferences: [{ apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, uid, controller: true }],
      },
      spec: structuredClone(tmpl.spec),
      status: { phase: "Pending" },
    });
    this.store.update("jobs", ns, job.metadata.name, (j) => {
      j.status = { ...j.status, active: 1, startTime: now() };
    });
    queueMicrotask(() => this.podCreated(pod));
  }

  // ---- lookups -------------------------------------------------------------------------------------

  pods(ns: string, selector?: (p: Obj) => boolean): Obj[] {
    return this.store.list("pods", ns).filter((p) => !selector || selector(p));
  }

  /** The pod the Job controller created for a Job. */
  jobPod(ns: string, jobName: string): Obj | undefined {
    return this.pods(ns, (p) => p.metadata.labels?.["batch.kubernetes.io/job-name"] === jobName)[0];
  }

  // ---- kubelet transitions -------------------------------------------------------------------------

  private mutatePod(ns: string, name: string, fn: (p: Obj) => void): void {
    if (!this.store.update("pods", ns, name, fn)) throw new Error(`no pod ${ns}/${name}`);
  }

  private sidecars(pod: Obj): ContainerSpec[] {
    return (pod.spec?.initContainers ?? []).filter((c: ContainerSpec) => c.restartPolicy === "Always");
  }

  setUnschedulable(ns: string, name: string, message: string): void {
    this.mutatePod(ns, name, (p) => {
      p.status.conditions = [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message, lastTransitionTime: now() }];
    });
  }

  /** Scheduled, sidecars started, every container running; ready unless it has a readiness probe. */
  startPod(ns: string, name: string): void {
    this.mutatePod(ns, name, (p) => {
      const startedAt = now();
      const running = (c: ContainerSpec, ready: boolean) => ({
        name: c.name,
        image: (c as { image?: string }).image,
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt } },
      });
      p.status = {
        ...p.status,
        phase: "Running",
        startTime: startedAt,
        podIP: "10.244.0.10",
        conditions: [
          { type: "PodScheduled", status: "True" },
          { type: "Initialized", status: "True" },
          { type: "ContainersReady", status: "False" },
          { type: "Ready", status: "False" },
        ],
        initContainerStatuses: this.sidecars(p).map((c) => running(c, true)),
        containerStatuses: p.spec.containers.map((c: ContainerSpec) => running(c, !c.readinessProbe)),
      };
      this.syncReady(p);
    });
  }

  setReady(ns: string, name: string, container: string, ready = true): void {
    this.mutatePod(ns, name, (p) => {
      const st = p.status.containerStatuses.find((s: { name: string }) => s.name === container);
      st.ready = ready;
      this.syncReady(p);
    });
  }

  private syncReady(p: Obj): void {
    const all = (p.status.containerStatuses ?? []).every((s: { ready: boolean }) => s.ready);
    for (const c of p.status.conditions ?? []) if (c.type === "Ready" || c.type === "ContainersReady") c.status = all ? "True" : "False";
  }

  /** A container waiting, e.g. ErrImagePull / ImagePullBackOff / CreateContainerConfigError. */
  setWaiting(ns: string, name: string, container: string, reason: string, message: string): void {
    this.mutatePod(ns, name, (p) => {
      const isInit = (p.spec.initContainers ?? []).some((c: ContainerSpec) => c.name === container);
      const key = isInit ? "initContainerStatuses" : "containerStatuses";
      const list = (p.status[key] ??= []);
      const entry = { name: container, ready: false, started: false, restartCount: 0, state: { waiting: { reason, message } } };
      const i = list.findIndex((s: { name: string }) => s.name === container);
      if (i >= 0) list[i] = entry;
      else list.push(entry);
    });
  }

  /**
   * Terminates one regular container. Once every regular container has terminated, kubelet stops
   * the sidecars, the pod reaches Succeeded/Failed and the Job controller records the outcome.
   */
  terminate(ns: string, name: string, container: string, opts: TerminateOptions = {}): void {
    const exitCode = opts.exitCode ?? 0;
    this.mutatePod(ns, name, (p) => {
      const finishedAt = now();
      const st = p.status.containerStatuses?.find((s: { name: string }) => s.name === container);
      const startedAt = st?.state?.running?.startedAt ?? finishedAt;
      const entry = {
        name: container,
        ready: false,
        started: false,
        restartCount: 0,
        state: { terminated: { exitCode, reason: opts.reason ?? (exitCode === 0 ? "Completed" : "Error"), startedAt, finishedAt } },
      };
      p.status.containerStatuses = [...(p.status.containerStatuses ?? []).filter((s: { name: string }) => s.name !== container), entry];
      const regular = p.spec.containers.map((c: ContainerSpec) => c.name);
      const done = regular.every((n: string) => p.status.containerStatuses.some((s: any) => s.name === n && s.state?.terminated));
      if (done) {
        p.status.initContainerStatuses = (p.status.initContainerStatuses ?? []).map((s: any) => ({
          ...s,
          ready: false,
          state: { terminated: { exitCode: 0, reason: "Completed", startedAt: s.state?.running?.startedAt ?? finishedAt, finishedAt } },
        }));
        const failed = p.status.containerStatuses.some((s: any) => s.state.terminated.exitCode !== 0);
        p.status.phase = failed ? "Failed" : "Succeeded";
        this.syncReady(p);
      }
    });
    this.endLogStreams(ns, name, container);
    const pod = this.store.get("pods", ns, name)!;
    if (pod.status.phase === "Succeeded" || pod.status.phase === "Failed") {
      this.endLogStreams(ns, name);
      this.jobSeesPodFinished(pod);
    }
  }

  /** Terminates whatever still runs (graceful deletion reached its end). */
  private terminateAll(ns: string, name: string, opts: TerminateOptions): void {
    const pod = this.store.get("pods", ns, name);
    if (!pod || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return this.endLogStreams(ns, name);
    for (const c of pod.spec.containers as ContainerSpec[]) {
      const st = pod.status?.containerStatuses?.find((s: { name: string }) => s.name === c.name);
      if (!st?.state?.terminated) this.terminate(ns, name, c.name, opts);
    }
    this.endLogStreams(ns, name);
  }

  private jobSeesPodFinished(pod: Obj): void {
    const owner = pod.metadata.ownerReferences?.find((r) => r.kind === "Job" && r.controller);
    if (!owner) return;
    const ns = pod.metadata.namespace!;
    this.store.update("jobs", ns, owner.name, (j) => {
      const ok = pod.status.phase === "Succeeded";
      const t = now();
      j.status = {
        ...j.status,
        active: 0,
        succeeded: ok ? 1 : 0,
        failed: ok ? 0 : 1,
        completionTime: ok ? t : undefined,
        conditions: ok
          ? [{ type: "SuccessCriteriaMet", status: "True" }, { type: "Complete", status: "True", lastTransitionTime: t }]
          : [
              { type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" },
              { type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", lastTransitionTime: t },
            ],
      };
    });
  }

  /** activeDeadlineSeconds passed: the Job controller fails the Job and deletes its running pod. */
  exceedJobDeadline(ns: string, jobName: string): void {
    const message = "Job was active longer than specified deadline";
    this.store.update("jobs", ns, jobName, (j) => {
      j.status = {
        ...j.status,
        active: 0,
        failed: 1,
        conditions: [
          { type: "FailureTarget", status: "True", reason: "DeadlineExceeded", message },
          { type: "Failed", status: "True", reason: "DeadlineExceeded", message, lastTransitionTime: now() },
        ],
      };
    });
    const pod = this.jobPod(ns, jobName);
    if (pod) {
      this.terminateAll(ns, pod.metadata.name, { exitCode: 137, reason: "Error" });
      this.store.remove("pods", ns, pod.metadata.name);
    }
  }

  /** The last state of an object, even after its deletion. */
  history(resource: string, name: string): Obj | undefined {
    return [...this.store.history].reverse().find((e) => e.resource === resource && e.object.metadata.name === name)?.object;
  }

  /** Objects carrying a label, across all served resources (for leak checks). */
  labelled(key: string, value: string): { resource: string; name: string }[] {
    return this.store
      .all()
      .filter((e) => e.object.metadata.labels?.[key] === value)
      .map((e) => ({ resource: e.resource, name: e.object.metadata.name }));
  }
}

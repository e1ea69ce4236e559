/**
 * Reading pod and Job status into what the sandbox needs to know. Pure. Branches on the API's
 * reason enums (container state reasons, condition reasons). The one free text read, the kubelet's
 * pull message, is only classified into a short reason (registry-egress.ts), never echoed.
 */
import type { V1ContainerStatus, V1Job, V1Pod } from "@kubernetes/client-node";
import { classifyPullFailure, pullFailure } from "../registry-egress.js";
import { SandboxError } from "../types.js";
import { TARGET_CONTAINER, TRACER_CONTAINER } from "./names.js";

const IMAGE_PULL_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"]);
const START_FAILURE_REASONS = new Set(["CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreStartHookError", "PostStartHookError"]);

export type TargetState =
  | { kind: "pending"; unschedulable?: string }
  | { kind: "running"; startedAt: Date; ready: boolean }
  | { kind: "terminated"; exitCode: number; reason?: string; oomKilled: boolean; startedAt?: Date; finishedAt?: Date }
  | { kind: "failed"; error: SandboxError; runAsRootRefused?: boolean };

function status(pod: V1Pod, name: string, init = false): V1ContainerStatus | undefined {
  const list = init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  return list?.find((s) => s.name === name);
}

function date(v: Date | string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** A Job condition that ended the sandbox, e.g. DeadlineExceeded. */
export function jobFailure(job: V1Job | undefined, deadlineSeconds?: number): SandboxError | undefined {
  const failed = job?.status?.conditions?.find((c) => (c.type === "Failed" || c.type === "FailureTarget") && c.status === "True");
  if (!failed) return undefined;
  if (failed.reason === "DeadlineExceeded") {
    const limit = deadlineSeconds ?? job?.spec?.activeDeadlineSeconds;
    return new SandboxError("timeout", `the sandbox exceeded its time limit${limit ? ` of ${limit}s` : ""} (Job DeadlineExceeded)`);
  }
  return undefined;
}

export function targetState(pod: V1Pod | undefined, image: string): TargetState {
  if (!pod) return { kind: "pending" };
  if (pod.status?.reason === "DeadlineExceeded") {
    return { kind: "failed", error: new SandboxError("timeout", "the sandbox pod exceeded its deadline") };
  }
  if (pod.status?.reason === "Evicted") {
    return { kind: "failed", error: new SandboxError("sandbox_start_failed", `the sandbox pod was evicted: ${pod.status.message ?? ""}`.trim()) };
  }
  const tracer = status(pod, TRACER_CONTAINER, true);
  const tracerWaiting = tracer?.state?.waiting?.reason;
  if (tracerWaiting && (IMAGE_PULL_REASONS.has(tracerWaiting) || START_FAILURE_REASONS.has(tracerWaiting))) {
    return {
      kind: "failed",
      error: new SandboxError("sandbox_start_failed", `the tracing sidecar could not start (${tracerWaiting}): ${tracer?.state?.waiting?.message ?? ""}`.trim()),
    };
  }
  const target = status(pod, TARGET_CONTAINER);
  const waiting = target?.state?.waiting;
  if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
    // The kubelet's message may describe internal network paths: classified, never echoed.
    return { kind: "failed", error: pullFailure(image, classifyPullFailure(waiting.message ?? ""), `the cluster's ${waiting.reason}`) };
  }
  if (waiting?.reason && START_FAILURE_REASONS.has(waiting.reason)) {
    return {
      kind: "failed",
      runAsRootRefused: waiting.reason === "CreateContainerConfigError",
      error: new SandboxError("sandbox_start_failed", `the container could not be created (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ""}`),
    };
  }
  const terminated = target?.state?.terminated;
  if (terminated) {
    return {
      kind: "terminated",
      exitCode: terminated.exitCode,
      reason: terminated.reason,
      oomKilled: terminated.reason === "OOMKilled",
      startedAt: date(terminated.startedAt),
      finishedAt: date(terminated.finishedAt),
    };
  }
  const running = target?.state?.running;
  if (running) {
    return { kind: "running", startedAt: date(running.startedAt) ?? new Date(), ready: target?.ready === true };
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    return { kind: "pending", unschedulable: scheduled.message ?? "no node can run the pod" };
  }
  return { kind: "pending" };
}

/** A helper pod's (prober, ZAP) outcome once its single container has terminated. */
export function helperOutcome(pod: V1Pod | undefined, container: string): { exitCode: number; reason?: string; startedAt?: Date; finishedAt?: Date } | "pending" | SandboxError {
  if (!pod) return "pending";
  const st = status(pod, container);
  const waiting = st?.state?.waiting?.reason;
  if (waiting && (IMAGE_PULL_REASONS.has(waiting) || START_FAILURE_REASONS.has(waiting))) {
    return new SandboxError("internal", `the ${container} pod could not start (${waiting})`);
  }
  const t = st?.state?.terminated;
  if (t) return { exitCode: t.exitCode, reason: t.reason, startedAt: date(t.startedAt), finishedAt: date(t.finishedAt) };
  if (pod.status?.phase === "Failed" && pod.status.reason === "DeadlineExceeded") {
    return { exitCode: 124, reason: "DeadlineExceeded" };
  }
  return "pending";
}

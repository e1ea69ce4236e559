/** How the Kubernetes driver obtains runtime evidence for the target container. */
import type { V1PodSpec } from "@kubernetes/client-node";
import type { ImageFilesystemSnapshot } from "../../../image/root-fs.js";
import type { RuntimeTrace } from "../../../trace/types.js";

export interface TargetRef {
  namespace: string;
  jobName: string;
  podName: string;
  /** When the target container started, if it did. */
  startedAt?: Date;
}

/** A collection in progress: started before the target is stopped, finished after. */
export interface TraceCollection {
  /** Resolves once the target has stopped and the evidence is read; never rejects. */
  finish(signal: AbortSignal): Promise<RuntimeTrace>;
  /** After finish(): the image as the tracer read it from the running target, when it could. */
  image?(): ImageFilesystemSnapshot | null;
}

export interface Tracer {
  readonly kind: "sidecar" | "kubescape";
  /** Adds what the tracer needs to the target pod spec. Pure. */
  decorate(pod: V1PodSpec): V1PodSpec;
  /** Called just before the target is stopped (or after it exited on its own). */
  begin(target: TargetRef): Promise<TraceCollection>;
}

/** The trace to hand on when no evidence could be read: the engine then never claims not_affected. */
export { emptyTrace } from "../../../trace/empty.js";

/**
 * Tracer (2): Kubescape's node-agent, where the cluster runs it. Nothing is added to the pod; after
 * the target stops, the driver waits for the node-agent's ContainerProfile of the target container
 * (older Kubescape releases: the workload's ApplicationProfile) and converts it.
 */
import type { KubernetesListObject, KubernetesObject, V1PodSpec } from "@kubernetes/client-node";
import { traceFromKubescapeProfile } from "../../../trace/kubescape.js";
import type { KubeClients } from "../client.js";
import type { KubernetesConfig } from "../config.js";
import { apiCode, NOT_FOUND } from "../errors.js";
import { TARGET_CONTAINER } from "../names.js";
import { waitUntil, WatchedCollection } from "../watcher.js";
import { emptyTrace, type TargetRef, type TraceCollection, type Tracer } from "./types.js";

const KUBESCAPE_GROUP = "spdx.softwarecomposition.kubescape.io";
const KUBESCAPE_VERSION = "v1beta1";

type Profile = KubernetesObject & { metadata?: { annotations?: Record<string, string> } };

/** The node-agent marks a profile "completed" when it stopped learning (here: the container exited). */
function isFinalProfile(p: Profile): boolean {
  return p.metadata?.annotations?.["kubescape.io/status"] === "completed";
}

function profileSelector(jobName: string, container?: string): string {
  const parts = ["kubescape.io/workload-kind=Job", `kubescape.io/workload-name=${jobName}`];
  if (container) parts.push(`kubescape.io/workload-container-name=${container}`);
  return parts.join(",");
}

export class KubescapeTracer implements Tracer {
  readonly kind = "kubescape" as const;

  constructor(
    private readonly cfg: KubernetesConfig,
    private readonly clients: KubeClients,
  ) {}

  decorate(pod: V1PodSpec): V1PodSpec {
    return pod;
  }

  private list(plural: string, labelSelector: string): Promise<KubernetesListObject<Profile>> {
    return this.clients.custom.listNamespacedCustomObject({
      group: KUBESCAPE_GROUP,
      version: KUBESCAPE_VERSION,
      namespace: this.cfg.namespace,
      plural,
      labelSelector,
    }) as Promise<KubernetesListObject<Profile>>;
  }

  async begin(target: TargetRef): Promise<TraceCollection> {
    return { finish: (signal) => this.collect(target, signal) };
  }

  private async collect(target: TargetRef, signal: AbortSignal): Promise<ReturnType<typeof traceFromKubescapeProfile>> {
    const started = target.startedAt?.getTime() ?? Date.now();
    const selector = profileSelector(target.jobName, TARGET_CONTAINER);
    try {
      await this.list("containerprofiles", selector);
    } catch (err) {
      if (apiCode(err) !== NOT_FOUND) throw err;
      return this.fromApplicationProfile(target, started);
    }
    const path = `/apis/${KUBESCAPE_GROUP}/${KUBESCAPE_VERSION}/namespaces/${this.cfg.namespace}/containerprofiles`;
    const profiles = new WatchedCollection<Profile>(
      this.clients.kc,
      path,
      () => this.list("containerprofiles", selector),
      selector,
      this.cfg.watchRestartMs,
    );
    await profiles.start();
    try {
      const final = await waitUntil(
        [profiles],
        () => profiles.items().find(isFinalProfile),
        this.cfg.kubescapeProfileWaitSeconds * 1000,
        signal,
        "the Kubescape container profile",
      ).catch(() => undefined);
      // A profile that is still learning is evidence too; the converter marks it incomplete.
      const doc = final ?? profiles.items()[0];
      if (doc) return traceFromKubescapeProfile(doc);
      return this.fromApplicationProfile(target, started);
    } finally {
      await profiles.stop();
    }
  }

  private async fromApplicationProfile(target: TargetRef, started: number) {
    try {
      const list = await this.list("applicationprofiles", profileSelector(target.jobName));
      const doc = list.items[0];
      if (doc) return traceFromKubescapeProfile(doc);
    } catch (err) {
      if (apiCode(err) !== NOT_FOUND) throw err;
    }
    return emptyTrace("kubescape", Date.now() - started);
  }
}

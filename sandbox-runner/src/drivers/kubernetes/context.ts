/** What every sandbox of one driver shares: configuration, clients, the watch caches, the tracer. */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { KubeClients } from "./client.js";
import type { KubernetesConfig } from "./config.js";
import type { Tracer } from "./tracer/types.js";
import type { WatchedCollection } from "./watcher.js";

export interface DriverContext {
  cfg: KubernetesConfig;
  clients: KubeClients;
  pods: WatchedCollection<V1Pod>;
  jobs: WatchedCollection<V1Job>;
  tracer: Tracer;
  /** Called once a sandbox has deleted its objects. */
  released(jobId: string): void;
}

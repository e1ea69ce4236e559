/** What every sandbox of one driver shares: configuration, clients, the watch caches, the tracer. */
import type { V1Job, V1Pod } from "@kubernetes/client-node";
import type { ImageFilesystemSnapshot } from "../../image/root-fs.js";
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
  /** What the tracer read of each job's image from the running target, until the analysis takes it. */
  images: Map<string, ImageFilesystemSnapshot>;
  /** Called once a sandbox has deleted its objects. */
  released(jobId: string): void;
}

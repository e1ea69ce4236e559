/** The API clients the driver uses, built once from loadFromCluster() or a kubeconfig. */
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Log,
  NetworkingV1Api,
} from "@kubernetes/client-node";
import type { KubernetesConfig } from "./config.js";

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  net: NetworkingV1Api;
  custom: CustomObjectsApi;
  log: Log;
}

export function kubeConfigFor(cfg: Pick<KubernetesConfig, "inCluster" | "kubeconfigPath">): KubeConfig {
  const kc = new KubeConfig();
  if (cfg.inCluster) kc.loadFromCluster();
  else if (cfg.kubeconfigPath) kc.loadFromFile(cfg.kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export function makeKubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    net: kc.makeApiClient(NetworkingV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    log: new Log(kc),
  };
}

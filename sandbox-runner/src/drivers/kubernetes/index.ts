/** The Kubernetes driver's entry: configuration from the environment, a start-up sweep, periodic sweeps. */
import { kubernetesConfigFromEnv } from "./config.js";
import { KubernetesDriver } from "./driver.js";

export { KubernetesDriver } from "./driver.js";

/**
 * Builds the driver from K8S_* variables (K8S_RUNNER_ID defaults to HOSTNAME, the pod name), sweeps
 * what a previous incarnation left behind, and keeps sweeping every K8S_SWEEP_INTERVAL_SECONDS.
 */
export async function createKubernetesDriver(
  env: Record<string, string | undefined>,
  onSweepError: (err: unknown) => void = (err) => console.error("kubernetes orphan sweep failed", err),
): Promise<KubernetesDriver> {
  const cfg = kubernetesConfigFromEnv({ ...env, K8S_RUNNER_ID: env.K8S_RUNNER_ID ?? env.HOSTNAME });
  const driver = new KubernetesDriver(cfg);
  await driver.sweepOrphans();
  driver.startPeriodicSweep(onSweepError);
  return driver;
}

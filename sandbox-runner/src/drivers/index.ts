/**
 * Driver selection by RUNNER_DRIVER. The chosen driver is imported lazily, so a podman runner never
 * loads the Kubernetes client and a cluster runner never needs podman on its PATH.
 */
import type { RunnerConfig } from "../config.js";
import type { ImageFilesystemReader } from "../pipeline/analysis.js";
import { errorMessage, type Logger } from "../pipeline/log.js";
import type { SandboxDriver, SandboxSpec } from "./types.js";
import { createSnapshotCache } from "../image/snapshot-cache.js";

export interface SelectedDriver {
  driver: SandboxDriver;
  /** Reads the image's filesystem for the inventory, when the driver can. */
  readImageFilesystem?: ImageFilesystemReader;
  /** Starts reading an image's filesystem into the cache that readImageFilesystem answers from. */
  prefetchImageFilesystem?: (spec: SandboxSpec) => void;
  /** True when constructing the driver already swept orphans (main.ts then does not sweep again). */
  swept: boolean;
}

export async function selectDriver(
  config: RunnerConfig,
  logger: Logger,
  env: Record<string, string | undefined> = process.env,
): Promise<SelectedDriver> {
  if (config.driver === "podman") {
    const [{ PodmanDriver }, { collectImageFilesystem }] = await Promise.all([
      import("./podman/index.js"),
      import("./podman/image-fs.js"),
    ]);
    const driver = new PodmanDriver({
      limits: config.limits,
      ...(config.zapImage ? { zapImage: config.zapImage } : {}),
      ...(config.proberImage ? { proberImage: config.proberImage } : {}),
      ...(config.proberBuild ? { proberBuild: config.proberBuild } : {}),
      onPrepareProgress: (message) => logger.info(`prober image: ${message}`),
      imageSources: config.imageSources,
      runnerId: config.runnerId,
      pullPolicy: {
        allowedRegistries: config.allowedRegistries,
        onPullError: ({ imageRef, stderr }) => logger.warn("image pull failed", { image_ref: imageRef, podman: stderr }),
      },
    });
    // One read of an image's filesystem serves every job on it (images are immutable by ID).
    const indexCache = createSnapshotCache({
      dir: config.indexCacheDir,
      onError: (what, err) => logger.warn(what, { error: errorMessage(err) }),
    });
    return {
      driver,
      readImageFilesystem: (spec) => collectImageFilesystem(spec.imageDigest, indexCache),
      prefetchImageFilesystem: (spec) => void collectImageFilesystem(spec.imageDigest, indexCache).catch(() => {}),
      swept: false,
    };
  }
  const { createKubernetesDriver } = await import("./kubernetes/index.js");
  // The Kubernetes driver reads its own K8S_* settings and sweeps (at start and periodically) itself.
  const driver = await createKubernetesDriver(env, (err) => logger.error("kubernetes orphan sweep failed", { error: errorMessage(err) }));
  // The tracing sidecar reads the image through the running target (null: the engine stays conservative).
  return { driver, swept: true, readImageFilesystem: async (spec) => driver.takeImageFilesystem(spec.jobId) };
}

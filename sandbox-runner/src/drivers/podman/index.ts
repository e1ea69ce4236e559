/** The podman driver: strace-traced containers with no network, read-only roots and per-job cleanup. */
export { PodmanDriver, DEFAULT_PROBER_IMAGE, type PodmanDriverOptions } from "./driver.js";
export { collectImageFilesystem, type ImageFilesystemSnapshot } from "./image-fs.js";
export { zapPlan } from "./zap.js";

/** The podman driver: strace-traced containers with no network, read-only roots and per-job cleanup. */
export { PodmanDriver } from "./driver.js";;;
export { collectImageFilesystem } from "./image-fs.js";;

/**
 * What the podman driver needs from its host, checked without running anything: the commands on
 * PATH (podman with runc, nsenter; strace for the tracer) and root (rootful sandboxes, strace on
 * runc init). Cheap enough for every /healthz and every job; each failing check names the one
 * command that fixes it.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { HostCheck } from "../types.js";

/** The Debian packages the sandbox driver needs (slirp4netns: podman's network helper, installed alongside). */
const SANDBOX_PACKAGES = ["podman", "runc", "slirp4netns"];

export interface HostEnv {
  /** The PATH commands are looked up in (the runner's own, unless a test says otherwise). */
  path: string;
  uid: number | undefined;
}

export function currentHost(): HostEnv {
  return { path: process.env.PATH ?? "", uid: process.getuid?.() };
}

/** The absolute path of `command` on `path`, or null. */
export function findOnPath(command: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** The sandbox driver (podman, runc, nsenter, root) and the tracer (strace). */
export function hostChecks(host: HostEnv = currentHost()): HostCheck[] {
  const lacks = (cmds: string[]) => cmds.filter((c) => !findOnPath(c, host.path));
  const missingDriver = lacks(["podman", "runc", "nsenter"]);
  const root = host.uid === undefined || host.uid === 0;
  let driver: HostCheck;
  if (missingDriver.length) {
    const packages = missingDriver.includes("nsenter") ? [...SANDBOX_PACKAGES, "util-linux"] : SANDBOX_PACKAGES;
    driver = {
      name: "sandbox driver",
      status: "missing",
      detail: `${missingDriver.join(", ")} ${missingDriver.length > 1 ? "are" : "is"} not installed (not on the runner's PATH)`,
      fix: `apt-get install -y ${packages.join(" ")}`,
    };
  } else if (!root) {
    driver = {
      name: "sandbox driver",
      status: "missing",
      detail: `the runner runs as uid ${host.uid}; its podman sandboxes and their tracer need root`,
      fix: "sudo npm start",
    };
  } else {
    driver = { name: "sandbox driver", status: "ok", detail: "podman (runc) as root" };
  }
  const tracer: HostCheck = findOnPath("strace", host.path)
    ? { name: "tracer", status: "ok", detail: "strace" }
    : { name: "tracer", status: "missing", detail: "strace is not installed (not on the runner's PATH)", fix: "apt-get install -y strace" };
  return [driver, tracer];
}

/** One sentence for a job's error message: what is missing, and the command that fixes it. */
export function describeMissing(checks: HostCheck[]): string {
  return checks
    .filter((c) => c.status !== "ok")
    .map((c) => `${c.name}: ${c.detail}${c.fix ? `; fix: ${c.fix}` : ""}`)
    .join(". ");
}

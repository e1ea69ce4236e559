/**
 * The prober image's state on this host: present, being built (once, in the background from the
 * runner's start), or missing with the reason and the one command that fixes it. Jobs with a test
 * script wait here while it is being built, and fail as sandbox_unavailable when it is missing.
 */
import { abortable } from "../../pipeline/abortable.js";
import { SandboxError, type HostCheck } from "../types.js";
import { podman } from "./exec.js";
import type { HostEnv } from "./host-check.js";
import { buildProberImage, ProberBuildUnavailable, type ProberBuildOptions } from "./prober-build.js";

export interface ProberImageOptions {
  image: string;
  /** How to build it when it is missing (only `localhost/` names are built); absent: never built. */
  build?: ProberBuildOptions;
  host: () => HostEnv;
  onProgress?: (message: string) => void;
}

type State =
  | { status: "unknown" }
  | { status: "ok" }
  | { status: "preparing"; detail: string }
  | { status: "missing"; detail: string; fix: string };

export class ProberImage {
  private state: State = { status: "unknown" };
  private preparing: Promise<void> | undefined;

  constructor(private readonly o: ProberImageOptions) {}

  /** Looks for the image and builds it when it is missing and buildable here. Concurrent calls share one run. */
  prepare(): Promise<void> {
    this.preparing ??= this.run().finally(() => {
      this.preparing = undefined;
    });
    return this.preparing;
  }

  check(): HostCheck {
    const base = { name: "prober image", onlyForTestScripts: true };
    const s = this.state;
    if (s.status === "ok") return { ...base, status: "ok", detail: this.o.image };
    if (s.status === "preparing") return { ...base, status: "preparing", detail: `${this.o.image}: ${s.detail}; test-script jobs wait for it` };
    if (s.status === "missing") return { ...base, status: "missing", detail: s.detail, fix: s.fix };
    return { ...base, status: "preparing", detail: `${this.o.image}: not checked yet` };
  }

  /** Resolves when the image is there; calls `onHold` and waits while it is being built; throws when it is missing. */
  async whenReady(signal: AbortSignal, onHold: () => void): Promise<void> {
    if (this.state.status === "ok") return;
    // Missing: look again (someone may have built it since); unknown: the first look.
    const run = this.prepare();
    if (this.state.status === "preparing") onHold();
    await abortable(run, signal);
    const s = this.state as State;
    if (s.status === "missing") throw new SandboxError("sandbox_unavailable", `${s.detail}; fix: ${s.fix}`);
  }

  private async run(): Promise<void> {
    const image = this.o.image;
    if (this.state.status !== "missing") this.state = { status: "preparing", detail: "checking" };
    if (await exists(image)) {
      this.state = { status: "ok" };
      return;
    }
    const buildable = this.o.build && image.startsWith("localhost/");
    const prebuilt = "sandbox-runner/test-images/build.sh";
    if (!buildable) {
      this.state = {
        status: "missing",
        detail: `the prober image ${image} (where test scripts run) is not on this host`,
        fix: image.startsWith("localhost/") ? prebuilt : `podman pull ${image}`,
      };
      return;
    }
    // A build that already failed is not retried per job: its fix says what to do.
    if (this.state.status === "missing") return;
    this.state = { status: "preparing", detail: "building" };
    this.o.onProgress?.(`building ${image} (test-script jobs wait for it)`);
    try {
      await buildProberImage(image, this.o.build!, this.o.host(), (message) => {
        this.state = { status: "preparing", detail: `building: ${message}` };
        this.o.onProgress?.(message);
      });
      this.state = (await exists(image))
        ? { status: "ok" }
        : { status: "missing", detail: `the prober image ${image} was built but podman does not list it`, fix: prebuilt };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.state = {
        status: "missing",
        detail: `the prober image ${image} (where test scripts run) is missing and the runner could not build it: ${reason}`,
        fix: err instanceof ProberBuildUnavailable ? `${err.fix}, then restart the runner (npm start)` : prebuilt,
      };
      this.o.onProgress?.(`not built: ${reason}`);
    }
  }
}

async function exists(image: string): Promise<boolean> {
  try {
    return (await podman(["image", "exists", image], { timeoutMs: 30_000 })).code === 0;
  } catch {
    // podman itself is missing: the sandbox driver's check says so.
    return false;
  }
}

/**
 * Builds the prober image (where users' test scripts run: sh + curl) on the runner's host, with the
 * recipe of test-images/build.sh: a Debian bookworm minbase root filesystem with curl from
 * debootstrap, imported into podman. Needs root, debootstrap and a Debian mirror; nothing else from
 * the internet. Reports its progress as debootstrap moves through its stages.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { podmanOk } from "./exec.js";
import { findOnPath, type HostEnv } from "./host-check.js";

export interface ProberBuildOptions {
  /** Debian mirror debootstrap fetches from. */
  mirror: string;
  /** Where downloaded .debs are kept between builds (shared with test-images/build.sh). */
  cacheDir: string;
}

/** A build that cannot even begin here: what is missing and the one command that fixes it. */
export class ProberBuildUnavailable extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "ProberBuildUnavailable";
  }
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Builds `image`; throws ProberBuildUnavailable when it cannot start here, Error when it fails. */
export async function buildProberImage(image: string, o: ProberBuildOptions, host: HostEnv, onProgress: (message: string) => void): Promise<void> {
  if (host.uid !== undefined && host.uid !== 0) throw new ProberBuildUnavailable("building it needs root (debootstrap)", "sudo npm start");
  if (!findOnPath("debootstrap", host.path)) {
    throw new ProberBuildUnavailable("building it needs debootstrap, which is not installed", "apt-get install -y debootstrap");
  }
  const work = await mkdtemp(join(tmpdir(), "vexxy-prober-build-"));
  try {
    const rootfs = join(work, "rootfs");
    const cache = await mkdir(o.cacheDir, { recursive: true }).then(
      () => ["--cache-dir", o.cacheDir],
      () => [] as string[],
    );
    onProgress(`debootstrap: bookworm minbase + curl from ${o.mirror}`);
    await debootstrap(["--variant=minbase", "--include=curl,ca-certificates", ...cache, "bookworm", rootfs, o.mirror], host, onProgress);
    // What a slim image drops, as build.sh does.
    for (const dir of ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/man", "usr/share/info", "usr/share/locale"]) {
      await rm(join(rootfs, dir), { recursive: true, force: true });
    }
    await writeFile(join(rootfs, "etc/resolv.conf"), "");
    onProgress("importing the root filesystem into podman");
    const tarball = join(work, "rootfs.tar");
    await runQuiet("tar", ["-C", rootfs, "-cf", tarball, "."], host);
    await podmanOk(["import", "--change", `ENV ${PATH_ENV}`, "--change", 'CMD ["/bin/sh"]', "--change", "LABEL org.opencontainers.image.title=vexxy-prober", tarball, image]);
    onProgress(`built ${image}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** debootstrap's log verbs, grouped into the stages a person follows. */
const STAGES: Record<string, string> = {
  retrieving: "downloading",
  validating: "downloading",
  checking: "downloading",
  valid: "downloading",
  resolving: "downloading",
  found: "downloading",
  extracting: "extracting",
  installing: "installing",
  unpacking: "installing",
  configuring: "installing",
  base: "installed",
};

/** debootstrap, reporting each stage it enters and every tenth package it downloads. */
function debootstrap(args: string[], host: HostEnv, onProgress: (message: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("debootstrap", args, { env: { ...process.env, PATH: host.path }, stdio: ["ignore", "pipe", "pipe"] });
    const tail: string[] = [];
    let stage = "";
    let downloaded = 0;
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const verb = /^I: (\w+)/.exec(line)?.[1]?.toLowerCase();
      const next = verb ? STAGES[verb] : undefined;
      if (!next) return;
      if (verb === "validating") downloaded++;
      if (next !== stage) {
        stage = next;
        onProgress(`debootstrap: ${next}`);
      } else if (verb === "validating" && downloaded % 10 === 0) {
        onProgress(`debootstrap: downloading (${downloaded} packages)`);
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`debootstrap failed (${code}): ${tail.slice(-5).join(" | ")}`));
    });
  });
}

function runQuiet(cmd: string, args: string[], host: HostEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, PATH: host.path }, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString("utf8")).slice(-2000)));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code}): ${err.trim()}`))));
  });
}

/**
 * Pure builders for the podman command lines the driver runs, so isolation settings are values a
 * test can read. Everything the driver creates carries vexxy.managed=true and vexxy.job-id.
 */
import type { SandboxLimits, SandboxSpec } from "../types.js";

export const MANAGED_LABEL = "vexxy.managed=true";

/**
 * Labels on everything the driver creates. `runnerId` scopes orphan sweeps when several runners (or
 * test suites) share one podman storage; without it a sweep takes every managed container.
 */
function labels(jobId: string, role: "target" | "prober" | "zap", runnerId?: string): string[] {
  const out = ["--label", MANAGED_LABEL, "--label", `vexxy.job-id=${jobId}`, "--label", `vexxy.role=${role}`];
  if (runnerId) out.push("--label", `vexxy.runner=${runnerId}`);
  return out;
}

export function containerName(jobId: string, role: string): string {
  return `vexxy-${jobId}-${role}`;
}

/** Isolation every container we run gets: no capabilities, no privilege gain, nothing pulled. */
const HARDENING = ["--cap-drop=all", "--security-opt", "no-new-privileges", "--pull", "never"];

const TMPFS = ["/tmp", "/var/tmp", "/run"];

export interface TargetOptions {
  /** Image ID (sha256 hex) resolved by prepareImage: the run uses exactly the pinned image. */
  imageId: string;
  readOnly: boolean;
  /** --env-file with the user's variables (kept out of argv and the host process list). */
  envFile: string;
  /** Variables that cannot go in an env file (they contain a newline). */
  inlineEnv: Record<string, string>;
  /** Host dir mounted writable for NODE_V8_COVERAGE, when coverage is collected. */
  coverageDir?: string;
  runnerId?: string;
}

const COVERAGE_MOUNT = "/vexxy-coverage";

export function targetCreateArgs(spec: SandboxSpec, limits: SandboxLimits, opts: TargetOptions): string[] {
  const args = [
    "create",
    "--name",
    containerName(spec.jobId, "target"),
    ...labels(spec.jobId, "target", opts.runnerId),
    ...HARDENING,
    // No network namespace peers, no routes: loopback only. The prober and ZAP join this namespace.
    "--network",
    "none",
    "--hostname",
    "sandbox",
    "--memory",
    String(limits.memoryBytes),
    "--memory-swap",
    String(limits.memoryBytes),
    "--cpus",
    String(limits.cpus),
    "--pids-limit",
    String(limits.pids),
    "--env-file",
    opts.envFile,
  ];
  for (const [k, v] of Object.entries(opts.inlineEnv)) args.push("--env", `${k}=${v}`);
  if (opts.readOnly) {
    args.push("--read-only", "--read-only-tmpfs=false");
    for (const dir of TMPFS) args.push("--tmpfs", `${dir}:rw,nosuid,nodev,size=64m,mode=1777`);
  }
  if (opts.coverageDir) {
    args.push("--volume", `${opts.coverageDir}:${COVERAGE_MOUNT}:rw`, "--env", `NODE_V8_COVERAGE=${COVERAGE_MOUNT}`);
  }
  args.push(opts.imageId);
  return args;
}

export interface ProberOptions {
  jobId: string;
  targetName: string;
  proberImage: string;
  name: string;
  runnerId?: string;
}

/** The user's script runs here, reading it from stdin: `sh -s` in the target's network namespace. */
export function proberRunArgs(opts: ProberOptions): string[] {
  return [
    "run",
    "--rm",
    "-i",
    "--name",
    opts.name,
    ...labels(opts.jobId, "prober", opts.runnerId),
    ...HARDENING,
    "--network",
    `container:${opts.targetName}`,
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs",
    "/tmp:rw,nosuid,nodev,size=32m,mode=1777",
    "--memory",
    String(256 * 1024 * 1024),
    "--pids-limit",
    "128",
    "--workdir",
    "/tmp",
    opts.proberImage,
    "sh",
    "-s",
  ];
}

export interface ZapOptions {
  jobId: string;
  targetName: string;
  zapImage: string;
  workDir: string;
  runnerId?: string;
}

/** ZAP in its own container per job, in the target's netns, writing into a per-job dir. */
export function zapRunArgs(opts: ZapOptions): string[] {
  return [
    "run",
    "--rm",
    "--name",
    containerName(opts.jobId, "zap"),
    ...labels(opts.jobId, "zap", opts.runnerId),
    ...HARDENING,
    "--network",
    `container:${opts.targetName}`,
    "--memory",
    String(2 * 1024 * 1024 * 1024),
    "--volume",
    `${opts.workDir}:/zap/wrk:rw`,
    opts.zapImage,
    "zap.sh",
    "-cmd",
    "-autorun",
    "/zap/wrk/plan.yaml",
  ];
}

/** Splits user env into env-file text and the variables an env file cannot hold. */
export function envFileContent(env: Record<string, string>): { text: string; inline: Record<string, string> } {
  const lines: string[] = [];
  const inline: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v.includes("\n") || v.includes("\r")) inline[k] = v;
    else lines.push(`${k}=${v}`);
  }
  return { text: lines.length ? lines.join("\n") + "\n" : "", inline };
}

/**
 * Runs host commands (podman, strace, nsenter) with child_process.spawn: argv only, never a shell,
 * output bounded, killed on abort or timeout.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The runner's containers.conf (runc, cgroupfs, file events): every podman call uses it. */
export const CONTAINERS_CONF = fileURLToPath(new URL("../../../containers.conf", import.meta.url));

export interface RunOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Per-stream cap; the rest is drained and dropped. */
  maxOutputBytes?: number;
  stdin?: string;
  env?: Record<string, string>;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  truncated: boolean;
}

const DEFAULT_MAX = 4 * 1024 * 1024;

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, CONTAINERS_CONF, ...opts.env },
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const max = opts.maxOutputBytes ?? DEFAULT_MAX;
    const out = collect(child, "stdout", max);
    const err = collect(child, "stderr", max);
    let timedOut = false;
    let aborted = false;
    const kill = (): void => {
      child.kill("SIGKILL");
    };
    const timer = opts.timeoutMs ? setTimeout(() => ((timedOut = true), kill()), opts.timeoutMs) : undefined;
    const onAbort = (): void => {
      aborted = true;
      kill();
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.stdin !== undefined) {
      child.stdin!.on("error", () => {}); // the command may exit before reading everything
      child.stdin!.end(opts.stdin);
    }
    child.on("error", (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({
        code,
        signal,
        stdout: out.text(),
        stderr: err.text(),
        timedOut,
        aborted,
        truncated: out.truncated() || err.truncated(),
      });
    });
  });
}

function collect(child: ChildProcess, stream: "stdout" | "stderr", max: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = false;
  child[stream]!.on("data", (chunk: Buffer) => {
    if (size >= max) {
      dropped = true;
      return;
    }
    const keep = chunk.subarray(0, max - size);
    if (keep.length < chunk.length) dropped = true;
    chunks.push(keep);
    size += keep.length;
  });
  return { text: () => Buffer.concat(chunks).toString("utf8"), truncated: () => dropped };
}

/** podman with the runner's containers.conf; resolves with the result whatever the exit code. */
export function podman(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run("podman", args, opts);
}

/** podman that must succeed: throws with podman's stderr otherwise. */
export async function podmanOk(args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await podman(args, opts);
  if (r.code !== 0) {
    throw new Error(`podman ${args[0]} failed (${r.code ?? r.signal}): ${r.stderr.trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/**
 * strace on the container from its first exec. Two ways, both before `podman start`, while the
 * container's process is `runc init` blocked on its exec fifo:
 *
 * - "seccomp" (default): strace runs `podman init` itself with --seccomp-bpf, so the filter is
 *   inherited by conmon, runc and the container, and only the traced syscalls stop the process
 *   (about no overhead on request handling; see docs/podman.md). strace then also sees podman and
 *   conmon; the parser keeps only the container's process tree. Cost: while strace lives it must
 *   outlive the container, since a filtered syscall with no tracer fails with ENOSYS.
 * - "attach": `strace -p <runc init pid>` after `podman init`. strace 6.1 refuses --seccomp-bpf with
 *   -p, so every syscall of the app stops in ptrace (2x request time measured).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseStraceFiles } from "../../trace/strace.js";
import type { RuntimeTrace } from "../../trace/types.js";
import { CONTAINERS_CONF } from "./exec.js";

/**
 * What the kernel stops the traced processes for. Each is a ptrace round trip (entry and exit, with
 * the fd paths -y resolves), so a syscall a service makes per request costs on every request:
 * accept/accept4 were the one stop per request on a request-heavy service (issue #22: 200 requests
 * 1.31x untraced with them). They are not traced: bind and listen name the endpoint the service
 * serves, connect what it reaches, and whether it was exercised comes from the test script and
 * probes, not from the trace; no reachability decision reads accepted connections.
 */
export const TRACE_SYSCALLS = [
  "execve", "execveat", "open", "openat", "openat2", "mmap",
  "connect", "bind", "listen",
  "clone", "clone3", "fork", "vfork",
];

export type TraceMode = "seccomp" | "attach";

const SETPRIV = "/usr/bin/setpriv";
/** In the trace dir: the strace pid, so a sweep can stop stracers an abandoned sandbox left. */
const STRACE_PID_FILE = "strace.pid";

/**
 * Kills the strace recorded in `traceDir` if it is still running (checked against /proc, so a
 * recycled pid is never touched).
 */
export function killRecordedStrace(traceDir: string): boolean {
  try {
    const pid = Number(readFileSync(join(traceDir, STRACE_PID_FILE), "utf8"));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (!cmdline.some((a) => a.endsWith("strace")) || !cmdline.some((a) => a.startsWith(traceDir))) return false;
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

const COMMON = ["-ff", "-y", "-tt", "-s", "256", "-e", `trace=${TRACE_SYSCALLS.join(",")}`];

function straceAttachArgs(outPrefix: string, pid: number): string[] {
  return [...COMMON, "-o", outPrefix, "-p", String(pid)];
}

/** --decode-pids=pidns makes clone results name host pids, which the -ff file names use. */
function straceInitArgs(outPrefix: string, containerName: string): string[] {
  return [...COMMON, "--seccomp-bpf", "--decode-pids=pidns", "-o", outPrefix, "podman", "init", containerName];
}

export class StraceTracer {
  private readonly child: ChildProcess;
  private stderr = "";
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited = false;
  private killedByUs = false;
  /** The container's first process; set at once for attach, once podman init made it for seccomp. */
  pid = 0;
  readonly attachedAt: Promise<void>;

  private constructor(
    private readonly dir: string,
    readonly mode: TraceMode,
    args: string[],
    attachPid: number,
  ) {
    this.pid = attachPid;
    // setpriv --pdeathsig: if the runner dies, its stracers die with it instead of holding conmon and
    // the app in ptrace forever (SIGINT/SIGTERM do not get strace out of that state; SIGKILL does).
    const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "KILL", "--", "strace", ...args]] : ["strace", args];
    this.child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, CONTAINERS_CONF } });
    if (this.child.pid) writeFileSync(join(dir, STRACE_PID_FILE), String(this.child.pid));
    this.exit = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
      this.child.on("error", (e) => {
        this.stderr += `\nspawn failed: ${e.message}`;
        this.exited = true;
        resolve({ code: null, signal: null });
      });
    });
    this.attachedAt = new Promise((resolve, reject) => {
      this.child.stderr!.on("data", (chunk: Buffer) => {
        this.stderr += chunk.toString("utf8");
        if (this.stderr.length > 64 * 1024) this.stderr = this.stderr.slice(-64 * 1024);
        // "strace: Process 123 attached with 5 threads" or "... attached"
        if (mode === "attach" && new RegExp(`Process ${attachPid} attached`).test(this.stderr)) resolve();
      });
      void this.exit.then(() => reject(new Error(`strace exited before attaching: ${this.stderr.trim()}`)));
    });
    // Only attach() awaits this; in seccomp mode it never resolves and its rejection is expected.
    this.attachedAt.catch(() => {});
  }

  /**
   * seccomp mode: strace runs `podman init`; resolves once the container's process exists (it is
   * traced from its birth). `containerPid` polls podman for it.
   */
  static async initContainer(dir: string, containerName: string, containerPid: () => Promise<number>, timeoutMs = 60_000): Promise<StraceTracer> {
    const tracer = new StraceTracer(dir, "seccomp", straceInitArgs(join(dir, "trace"), containerName), 0);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const pid = await containerPid();
      if (pid > 0) {
        tracer.pid = pid;
        return tracer;
      }
      if (tracer.exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    tracer.kill();
    throw new Error(`podman init under strace did not create the container: ${tracer.stderr.trim().slice(-1000)}`);
  }

  /** attach mode: spawns strace -p and resolves once it reports being attached to `pid`. */
  static async attach(dir: string, pid: number, timeoutMs = 10_000): Promise<StraceTracer> {
    const tracer = new StraceTracer(dir, "attach", straceAttachArgs(join(dir, "trace"), pid), pid);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        tracer.attachedAt,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`strace did not attach to ${pid} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      tracer.kill();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return tracer;
  }

  /** Waits for strace to finish writing (it exits when every tracee has); detaches it after `graceMs`. */
  async finish(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exit.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // SIGINT makes strace detach cleanly and flush; the trace is then incomplete.
      this.killedByUs = true;
      this.child.kill("SIGINT");
      await Promise.race([this.exit, new Promise((r) => setTimeout(r, 2000))]);
      if (!this.exited) this.child.kill("SIGKILL");
    }
  }

  kill(): void {
    if (!this.exited) {
      this.killedByUs = true;
      this.child.kill("SIGKILL");
    }
  }

  /** Problems that make the trace incomplete; empty when strace ran to the tracees' end. */
  async problems(): Promise<string[]> {
    const out: string[] = [];
    if (!this.exited) out.push("strace still running");
    else {
      const { code, signal } = await this.exit;
      if (this.killedByUs) out.push("strace was stopped before the traced processes ended");
      else if (code !== 0) out.push(`strace exited with ${code ?? signal}`);
    }
    for (const line of this.stderr.split("\n")) {
      // Attach/exit chatter is normal; anything else (ptrace errors, lost processes) is not.
      if (/^strace: (Process \d+ (attached|detached)|.*attached with \d+ threads)/.test(line) || line.trim() === "") continue;
      out.push(line.trim());
    }
    return out;
  }

  async trace(opts: { fromFirstExec: boolean; durationMs: number; extraProblems: string[] }): Promise<{ trace: RuntimeTrace; problems: string[] }> {
    const files = new Map<number, string>();
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      const m = /^trace\.(\d+)$/.exec(entry);
      if (m) files.set(Number(m[1]), await readFile(join(this.dir, entry), "utf8"));
    }
    const problems = [...(await this.problems()), ...opts.extraProblems];
    const trace = parseStraceFiles(files, {
      rootPid: this.pid,
      // In seccomp mode strace also traced podman, conmon and runc: keep the container's tree only.
      onlyDescendants: this.mode === "seccomp",
      fromFirstExec: opts.fromFirstExec,
      complete: problems.length === 0 && files.size > 0,
      durationMs: opts.durationMs,
    });
    return { trace, problems };
  }
}

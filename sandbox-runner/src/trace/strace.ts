/**
 * Turns `strace -ff -y -tt` output (one text per traced pid) into a RuntimeTrace.
 *
 * Paths: an open that succeeded reports the path -y decoded from the returned fd (absolute and
 * symlink-resolved, e.g. /usr/lib/x86_64-linux-gnu/libz.so.1.2.13); a failed open reports the
 * requested path made absolute against its dirfd. mmap events come from the fd decoration of the
 * mapped file. accept/listen report the listening socket's own address (the service's endpoint),
 * connect/bind the address passed in. connect returning EINPROGRESS counts as ok (the attempt went out).
 */
import type { ConnectionEvent, ExecEvent, MmapEvent, OpenEvent, RuntimeTrace } from "./types.js";
import { fdPath, parseResult, splitArgs, splitResult, splitStraceLine, unquote } from "./strace-line.js";
import { parseSockaddr, type SockAddr } from "./strace-sockaddr.js";

export interface StraceParseOptions {
  /**
   * The container's first process (host pid). Its events before its first successful execve belong
   * to the container runtime (runc init) and are dropped.
   */
  rootPid?: number;
  /**
   * Keep only rootPid and the processes it forked after its first exec. Needed when strace also traced
   * the tooling that launched the container (podman, conmon); unnecessary with -p attach.
   */
  onlyDescendants?: boolean;
  fromFirstExec: boolean;
  complete: boolean;
  durationMs: number;
}

interface PidState {
  cwd: string | null;
  pending: Map<string, string>;
  /** fd → path from this process's successful opens (and what it inherited), for /proc/self/fd/N. */
  fds: Map<number, string>;
  /** The file this process last exec'd (or inherited), for /proc/self/exe. */
  exe: string | null;
}

const CLONES = new Set(["clone", "clone3", "fork", "vfork"]);
// How many leading arguments each syscall's decoding needs.
const ARG_COUNT: Record<string, number> = { execve: 2, execveat: 3, open: 2, openat: 3, openat2: 3, mmap: 5 };
const INTERESTING = new Set([
  ...CLONES,
  ..."execve execveat open openat openat2 mmap connect bind listen accept accept4".split(" "),
]);

/** Parses per-pid strace outputs; keys are the pids from the `-o trace.<pid>` file names. */
export function parseStraceFiles(files: Map<number, string>, opts: StraceParseOptions): RuntimeTrace {
  const linesByPid = bucketLines(files);
  const execs: ExecEvent[] = [];
  const opens: OpenEvent[] = [];
  const mmaps: MmapEvent[] = [];
  const connections: ConnectionEvent[] = [];
  const counts: Record<string, number> = {};
  const seen = new Set<string>();
  // socket:[inode] → address it was bound to, so listen/accept can name the service's port.
  const bound = new Map<string, SockAddr>();

  const once = (key: string): boolean => (seen.has(key) ? false : (seen.add(key), true));

  const queue: number[] = [];
  const included = new Set<number>();
  // A forked child starts with its parent's working directory, descriptors and executable.
  const inherited = new Map<number, Pick<PidState, "cwd" | "fds" | "exe">>();
  const processed = new Set<number>();
  const include = (pid: number, from?: PidState): void => {
    if (!linesByPid.has(pid)) return;
    if (from && !processed.has(pid) && !inherited.has(pid)) inherited.set(pid, { cwd: from.cwd, fds: new Map(from.fds), exe: from.exe });
    if (!included.has(pid)) {
      included.add(pid);
      queue.push(pid);
    }
  };
  if (opts.onlyDescendants && opts.rootPid !== undefined) include(opts.rootPid);
  else for (const pid of [...linesByPid.keys()].sort((a, b) => a - b)) include(pid);

  while (queue.length > 0) {
    const pid = queue.shift()!;
    processed.add(pid);
    const init = inherited.get(pid);
    const state: PidState = { cwd: init?.cwd ?? null, pending: new Map(), fds: init?.fds ?? new Map(), exe: init?.exe ?? null };
    let started = pid !== opts.rootPid;
    for (const raw of linesByPid.get(pid)!) {
      const line = splitStraceLine(raw);
      let syscall: string;
      let args: string;
      let result: string;
      if (line.kind === "unfinished") {
        state.pending.set(line.syscall, line.args);
        continue;
      } else if (line.kind === "resumed") {
        const head = state.pending.get(line.syscall) ?? "";
        state.pending.delete(line.syscall);
        const split = splitResult(head + line.rest);
        if (!split) continue;
        syscall = line.syscall;
        ({ args, result } = split);
      } else if (line.kind === "call") {
        ({ syscall, args, result } = line);
      } else {
        continue;
      }
      const res = parseResult(result);
      if (!started) {
        if ((syscall === "execve" || syscall === "execveat") && res.value === 0) started = true;
        else continue;
      }
      counts[syscall] = (counts[syscall] ?? 0) + 1;
      if (!INTERESTING.has(syscall)) continue;
      const argv = splitArgs(args, ARG_COUNT[syscall] ?? Infinity);
      trackCwd(state, argv[0]);

      if (syscall === "execve" || syscall === "execveat") {
        const pathArg = syscall === "execve" ? argv[0] : argv[1];
        const dir = syscall === "execveat" ? fdPath(argv[0] ?? "") : null;
        const path = procSelf(resolvePath(unquote(pathArg ?? "") ?? "", dir ?? state.cwd), state);
        const ok = res.value === 0;
        if (ok) state.exe = path;
        execs.push({ pid, path, argv: parseArgv(argv[syscall === "execve" ? 1 : 2] ?? ""), ok });
      } else if (syscall === "open" || syscall === "openat" || syscall === "openat2") {
        const open = decodeOpen(syscall, argv, state.cwd);
        if (!open) continue;
        const ok = res.value !== null && res.value >= 0;
        const path = ok && res.fd?.startsWith("/") ? stripDeleted(res.fd) : procSelf(open.path, state);
        if (ok && res.value !== null) state.fds.set(res.value, path);
        if (!ok && res.errno === undefined) continue;
        if (once(`o|${pid}|${path}|${open.flags}|${ok}|${res.errno ?? ""}`)) {
          opens.push({ pid, path, flags: open.flags, ok, ...(ok ? {} : { errno: res.errno }) });
        }
      } else if (syscall === "mmap") {
        const path = fdPath(argv[4] ?? "");
        if (!path?.startsWith("/") || res.errno) continue;
        const exec = (argv[2] ?? "").includes("PROT_EXEC");
        const clean = stripDeleted(path);
        if (once(`m|${pid}|${clean}|${exec}`)) mmaps.push({ pid, path: clean, exec });
      } else if (syscall === "connect" || syscall === "bind") {
        const addr = parseSockaddr(argv[1] ?? "");
        if (!addr) continue;
        const ok = res.value === 0 || res.errno === "EINPROGRESS";
        if (syscall === "bind" && ok) bound.set(fdPath(argv[0] ?? "") ?? "", addr);
        pushConnection(connections, once, { pid, syscall, ...addr, ok });
      } else if (syscall === "listen" || syscall === "accept" || syscall === "accept4") {
        if (res.value === null) continue; // interrupted (ERESTARTSYS): no outcome
        const local = bound.get(fdPath(argv[0] ?? "") ?? "");
        const addr = local ?? parseSockaddr(argv[1] ?? "") ?? { family: "other" as const, address: "" };
        const kind = syscall === "listen" ? "listen" : "accept";
        pushConnection(connections, once, { pid, syscall: kind, ...addr, ok: res.value >= 0 });
      } else if (CLONES.has(syscall)) {
        const child = res.hostPid ?? res.value;
        if (child !== null && child > 0) include(child, state);
      }
    }
  }

  return {
    source: "strace",
    from_first_exec: opts.fromFirstExec,
    complete: opts.complete,
    duration_ms: opts.durationMs,
    execs,
    opens,
    mmaps,
    connections,
    syscall_counts: counts,
  };
}

function pushConnection(list: ConnectionEvent[], once: (key: string) => boolean, event: ConnectionEvent): void {
  const key = `c|${event.pid}|${event.syscall}|${event.family}|${event.address}|${event.port ?? ""}|${event.ok}`;
  if (once(key)) list.push(event);
}

/** Groups lines by pid: the line's own "PID " prefix (single-file -f output) or the file's pid. */
function bucketLines(files: Map<number, string>): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [filePid, text] of files) {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (line === "") continue;
      // A timestamp never matches: it continues with ":" or ".", not a space.
      const prefixed = /^(\d+) /.exec(line);
      const pid = prefixed ? Number(prefixed[1]) : filePid;
      let bucket = out.get(pid);
      if (!bucket) out.set(pid, (bucket = []));
      bucket.push(line);
    }
  }
  return out;
}

function decodeOpen(syscall: string, argv: string[], cwd: string | null): { path: string; flags: string } | null {
  if (syscall === "open") {
    const path = unquote(argv[0] ?? "");
    return path === null ? null : { path: resolvePath(path, cwd), flags: argv[1] ?? "" };
  }
  const path = unquote(argv[1] ?? "");
  if (path === null) return null;
  const dir = fdPath(argv[0] ?? "");
  let flags = argv[2] ?? "";
  if (syscall === "openat2") flags = /flags=([^,}]+)/.exec(flags)?.[1] ?? flags;
  return { path: resolvePath(path, dir ?? cwd), flags };
}

/** -y decorates AT_FDCWD with the process's cwd; remember it for relative execve paths. */
function trackCwd(state: PidState, first: string | undefined): void {
  if (first?.startsWith("AT_FDCWD<")) state.cwd = fdPath(first);
}

/**
 * An absolute path as given (the kernel resolves `..` after links, so it is not collapsed here), or
 * a relative one joined to the directory it was relative to. With that directory unknown, the path
 * stays relative: the engine then treats it as code it cannot place, never as a file at "/".
 */
function resolvePath(path: string, dir: string | null): string {
  if (!path.startsWith("/")) {
    if (dir === null || !dir.startsWith("/")) return path;
    path = `${dir}/${path}`;
  }
  // "." and empty segments are the same directory wherever links lead; ".." is left to the engine.
  return path.includes("/.") || path.includes("//") ? "/" + path.split("/").filter((s) => s !== "" && s !== ".").join("/") : path;
}

/** `/proc/self/fd/3` → what this process opened as fd 3; `/proc/self/exe` → what it exec'd. Else unchanged. */
function procSelf(path: string, state: PidState): string {
  const m = /^\/proc\/(?:self|thread-self)\/(?:fd\/(\d+)|(exe))$/.exec(path) ?? /^\/dev\/fd\/(\d+)$/.exec(path);
  if (!m) return path;
  if (m[2] === "exe") return state.exe ?? path;
  return state.fds.get(Number(m[1])) ?? path;
}

function stripDeleted(path: string): string {
  return path.endsWith(" (deleted)") ? path.slice(0, -" (deleted)".length) : path;
}

function parseArgv(arg: string): string[] {
  if (!arg.startsWith("[")) return [];
  const inner = arg.slice(1, arg.lastIndexOf("]"));
  return splitArgs(inner)
    .map((a) => unquote(a))
    .filter((a): a is string => a !== null);
}

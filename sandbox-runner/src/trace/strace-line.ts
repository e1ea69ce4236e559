/**
 * One line of `strace -ff -y -tt` output, split into its parts. Kept free of any interpretation of
 * particular syscalls so that strace.ts reads as "what each syscall means for reachability".
 */

export type StraceLine =
  | { kind: "call"; pid: number | null; syscall: string; args: string; result: string; time: string }
  | { kind: "unfinished"; pid: number | null; syscall: string; args: string; time: string }
  | { kind: "resumed"; pid: number | null; syscall: string; rest: string; time: string }
  | { kind: "exit"; pid: number | null; code: number | null; signal?: string; time: string }
  | { kind: "signal"; pid: number | null; signal: string; time: string }
  | { kind: "other"; pid: number | null; text: string };

// Optional "PID " prefix (single-file -f output), optional -tt/-ttt timestamp.
const PREFIX = /^(?:(\d+)\s+)?(?:(\d{2}:\d{2}:\d{2}\.\d+|\d+\.\d+)\s+)?/;
const UNFINISHED = " <unfinished ...>";

export function splitStraceLine(line: string): StraceLine {
  const prefix = PREFIX.exec(line);
  const pid = prefix?.[1] ? Number(prefix[1]) : null;
  const time = prefix?.[2] ?? "";
  const body = line.slice(prefix?.[0].length ?? 0);

  if (body.startsWith("+++ ")) {
    const exited = /^\+\+\+ exited with (\d+) \+\+\+/.exec(body);
    if (exited) return { kind: "exit", pid, code: Number(exited[1]), time };
    const killed = /^\+\+\+ killed by (SIG\w+)/.exec(body);
    return { kind: "exit", pid, code: null, signal: killed?.[1] ?? "unknown", time };
  }
  if (body.startsWith("--- ")) {
    const sig = /^--- (SIG\w+|stopped by \w+)/.exec(body);
    return { kind: "signal", pid, signal: sig?.[1] ?? body, time };
  }
  if (body.startsWith("<... ")) {
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (resumed) return { kind: "resumed", pid, syscall: resumed[1]!, rest: resumed[2]!, time };
    return { kind: "other", pid, text: body };
  }
  const open = body.indexOf("(");
  if (open <= 0 || !/^\w+$/.test(body.slice(0, open))) return { kind: "other", pid, text: body };
  const syscall = body.slice(0, open);
  if (body.endsWith(UNFINISHED)) {
    return { kind: "unfinished", pid, syscall, args: body.slice(open + 1, body.length - UNFINISHED.length), time };
  }
  const split = splitResult(body.slice(open + 1));
  if (!split) return { kind: "other", pid, text: body };
  return { kind: "call", pid, syscall, args: split.args, result: split.result, time };
}

/** Splits "args) = result" at the last ") = " (strace may pad before "=": "exit_group(0)     = ?"). */
export function splitResult(tail: string): { args: string; result: string } | null {
  let eq = tail.lastIndexOf(" = ");
  while (eq > 0) {
    let close = eq;
    while (close > 0 && tail.charCodeAt(close - 1) === 32) close--;
    if (tail.charCodeAt(close - 1) === 41 /* ) */) return { args: tail.slice(0, close - 1), result: tail.slice(eq + 3) };
    eq = tail.lastIndexOf(" = ", eq - 1);
  }
  return null;
}

/**
 * Splits top-level comma-separated arguments, respecting quotes, brackets, braces and the
 * `<...>` fd decorations printed by -y. Stops after `max` arguments (the rest is not needed).
 */
export function splitArgs(args: string, max = Infinity): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < args.length && out.length < max; i++) {
    const c = args.charCodeAt(i);
    if (inQuote) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inQuote = false;
      continue;
    }
    if (c === 34) inQuote = true;
    else if (c === 40 || c === 91 || c === 123 || c === 60) depth++; // ( [ { <
    else if (c === 41 || c === 93 || c === 125 || c === 62) depth = depth > 0 ? depth - 1 : 0; // ) ] } >
    else if (c === 44 /* , */ && depth === 0) {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (out.length < max) {
    const tail = args.slice(start).trim();
    if (tail !== "" || out.length > 0) out.push(tail);
  }
  return out;
}

/** Decodes a C-escaped strace string literal (without its quotes); returns null if not a literal. */
export function unquote(arg: string): string | null {
  const m = /^"((?:[^"\\]|\\.)*)"(\.\.\.)?$/.exec(arg);
  if (!m) return null;
  if (!m[1]!.includes("\\")) return m[1]!;
  return m[1]!.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_all, esc: string) => {
    if (esc[0] === "x") return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
    return ({ n: "\n", t: "\t", r: "\r", v: "\v", f: "\f" } as Record<string, string>)[esc] ?? esc;
  });
}

/** `3</usr/lib/libz.so.1>` or `AT_FDCWD</srv>` → the decorated path; null when there is none. */
export function fdPath(arg: string): string | null {
  const lt = arg.indexOf("<");
  if (lt < 0 || !arg.endsWith(">")) return null;
  return arg.slice(lt + 1, -1);
}

/** Parses an strace result: "3</path>", "-1 ENOENT (No such ...)", "0", "?", "6 /* 3734 in strace's PID NS *\/". */
export function parseResult(result: string): { value: number | null; errno?: string; fd?: string; hostPid?: number } {
  const err = /^-1 (E[A-Z0-9]+)/.exec(result);
  if (err) return { value: -1, errno: err[1]! };
  const restart = /^\? (E[A-Z0-9]+)/.exec(result);
  if (restart) return { value: null, errno: restart[1]! };
  const num = /^(-?\d+|0x[0-9a-f]+)/.exec(result);
  if (!num) return { value: null };
  const value = num[1]!.startsWith("0x") ? 0 : Number(num[1]);
  const fd = fdPath(result.slice(0, result.lastIndexOf(">") + 1));
  const ns = /\/\* (\d+) in strace's PID NS \*\//.exec(result);
  return { value, ...(fd ? { fd } : {}), ...(ns ? { hostPid: Number(ns[1]) } : {}) };
}

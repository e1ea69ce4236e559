/**
 * Walks the trace once and records, per package, which of its files were executed, mapped
 * executable, loaded as interpreted code, or merely opened — and which of those uses cannot be
 * attributed to one package because the file is shared.
 *
 * Two kinds of code never show up as a syscall and are added here from the image itself: the ELF
 * interpreter the kernel maps for a dynamic executable (glibc's ld-linux, musl's ld-musl — musl's
 * whole libc), and the interpreter named on a script's `#!` line. Code that ran from a path no
 * package owns, or from a path that cannot be placed in the image, is kept as unexplained evidence.
 */
import type { RuntimeTrace } from "../trace/types.js";
import { inImagePath } from "./event-path.js";
import type { OwnershipIndex } from "./ownership.js";
import { basename } from "./paths.js";
import type { ExecutableInfo } from "./types.js";

type UseKind = "exec" | "map" | "load" | "open";

export interface PackageUse {
  exec: Set<string>;
  map: Set<string>;
  load: Set<string>;
  open: Set<string>;
  /** Executed/mapped/loaded files another package also owns: path → kind. */
  ambiguous: Map<string, UseKind>;
  /** Files the kernel ran without a syscall for them: path → how (e.g. "ELF interpreter of /usr/bin/python3.11"). */
  implied: Map<string, string>;
}

/** Code that ran but that no package's file list explains. */
interface UnexplainedCode {
  /** The in-image path; absent when the path could not be placed in the image at all. */
  path?: string;
  /** What the tracer reported, or what was looked for. */
  reported: string;
  kind: "exec" | "map" | "load";
  why: string;
}

export interface TraceUsage {
  byPackage: Map<number, PackageUse>;
  unowned: Set<string>;
  unownedCount: number;
  /** Unowned or unplaceable code, one entry per path. */
  unexplained: UnexplainedCode[];
  /**
   * Executed files whose loader or interpreter could not be read from the image (no image
   * contents, or a file the image does not have): some loader or interpreter ran, unknown which.
   */
  unknownKernelLoads: string[];
  /** Anonymous executable mappings (memfd): code written at run time by a process traced itself. */
  anonymousCode: number;
}

/** Source and bytecode an interpreter reads to run it: opening one of these is loading code. */
const INTERPRETED = /\.(py|pyc|pyo|js|mjs|cjs|rb|php|pl|pm|lua|sh|bash)$/;
const WRITE = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
const UNOWNED_SAMPLE = 20;
/** The PATH `env` searches when the image's own is not known: Debian's and Alpine's default. */
const DEFAULT_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
/** binfmt_script nests at most a few interpreters deep (the kernel's limit is 4 + the ELF). */
const MAX_INTERPRETER_DEPTH = 5;

export interface UsageOptions {
  /** The image's executables by in-image path; absent when the image's contents were not read. */
  executables?: Map<string, ExecutableInfo>;
  /** Every path in the image (for `#!/usr/bin/env cmd` look-ups on PATH). */
  imagePaths?: Set<string>;
}

export function usageFromTrace(trace: RuntimeTrace, index: OwnershipIndex, opts: UsageOptions = {}): TraceUsage {
  const byPackage = new Map<number, PackageUse>();
  const unowned = new Set<string>();
  let unownedCount = 0;
  const seenUnowned = new Set<string>();
  const unexplained = new Map<string, UnexplainedCode>();
  const unknownKernelLoads = new Set<string>();
  let anonymousCode = 0;
  const resolver = index.resolver;

  const execInfo = canonicalExecutables(opts.executables, resolver);
  const imageHas = (p: string) => (opts.imagePaths ? opts.imagePaths.has(p) || opts.imagePaths.has(resolver.full(p)) : false);

  const explainLater = (u: UnexplainedCode) => {
    const k = u.path ?? u.reported;
    if (!unexplained.has(k)) unexplained.set(k, u);
  };

  const record = (reported: string, kind: UseKind, via?: string) => {
    const placed = inImagePath(reported);
    if (placed.kind !== "path" || resolver.looped(placed.path)) {
      if (kind === "open") return;
      if (placed.kind === "anonymous") anonymousCode++;
      else explainLater({ reported, kind, why: placed.kind === "unresolvable" ? placed.reason : `${reported} is in a symlink loop` });
      return;
    }
    const path = placed.path;
    const owners = index.ownersOf(path);
    if (owners.length === 0) {
      if (!seenUnowned.has(path)) {
        seenUnowned.add(path);
        unownedCount++;
        if (unowned.size < UNOWNED_SAMPLE) unowned.add(path);
      }
      if (kind !== "open") explainLater({ path: resolver.full(path), reported, kind, why: via ?? "no package lists this file" });
      return;
    }
    for (const o of owners) {
      let use = byPackage.get(o.pkg);
      if (!use) {
        use = { exec: new Set(), map: new Set(), load: new Set(), open: new Set(), ambiguous: new Map(), implied: new Map() };
        byPackage.set(o.pkg, use);
      }
      if (kind !== "open" && o.shared) {
        // Shared code: count it as touched (so no not_affected) but never as proof of use.
        if (!use.ambiguous.has(o.path)) use.ambiguous.set(o.path, kind);
        use.open.add(o.path);
      } else use[kind].add(o.path);
      if (via && kind !== "open" && !use.implied.has(o.path)) use.implied.set(o.path, via);
    }
  };

  /** What the kernel itself ran to execute `path`: its ELF interpreter, or its #! interpreter. */
  const kernelLoads = (path: string, depth: number) => {
    if (depth > MAX_INTERPRETER_DEPTH) return;
    const placed = inImagePath(path);
    if (placed.kind !== "path") return; // already unexplained through record()
    const info = execInfo?.get(resolver.full(placed.path));
    if (!info) {
      unknownKernelLoads.add(placed.path);
      return;
    }
    if (info.kind === "elf") {
      if (info.interpreter) {
        record(info.interpreter, "exec", `ELF interpreter of ${placed.path}, loaded by the kernel`);
        kernelLoads(info.interpreter, depth + 1);
      }
    } else if (info.kind === "script") {
      record(info.interpreter, "exec", `#! interpreter of ${placed.path}, run by the kernel`);
      kernelLoads(info.interpreter, depth + 1);
      if (basename(info.interpreter) === "env") {
        const cmd = envCommand(info.arg);
        if (!cmd) return;
        const found = cmd.includes("/") ? cmd : DEFAULT_PATH.map((d) => `${d}/${cmd}`).find((c) => execInfo?.has(resolver.full(c)) || imageHas(c));
        if (found) {
          record(found, "exec", `#! interpreter of ${placed.path} (through env), run by env`);
          kernelLoads(found, depth + 1);
        } else {
          explainLater({ reported: cmd, kind: "exec", why: `${placed.path} runs ${cmd} through env, and no ${cmd} was found on PATH` });
        }
      }
    }
  };

  for (const e of trace.execs) {
    record(e.path, e.ok ? "exec" : "open");
    if (e.ok) kernelLoads(e.path, 0);
  }
  for (const m of trace.mmaps) record(m.path, m.exec ? "map" : "open");
  for (const o of trace.opens) {
    if (o.flags.includes("O_DIRECTORY")) continue;
    const code = o.ok && !WRITE.test(o.flags) && INTERPRETED.test(o.path);
    record(o.path, code ? "load" : "open");
  }
  return {
    byPackage,
    unowned,
    unownedCount,
    unexplained: [...unexplained.values()],
    unknownKernelLoads: [...unknownKernelLoads],
    anonymousCode,
  };
}

/** Keys made canonical once, so an exec through any link finds its file. */
function canonicalExecutables(
  executables: Map<string, ExecutableInfo> | undefined,
  resolver: OwnershipIndex["resolver"],
): Map<string, ExecutableInfo> | null {
  if (!executables) return null;
  const out = new Map<string, ExecutableInfo>();
  for (const [p, info] of executables) out.set(resolver.full(p), info);
  return out;
}

/** `#!/usr/bin/env python3` → python3; `env -S node --flag` → node; options and VAR=x skipped. */
function envCommand(arg: string | undefined): string | undefined {
  if (!arg) return undefined;
  for (const word of arg.split(/\s+/)) {
    if (word === "" || word.startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return word;
  }
  return undefined;
}

/**
 * Doubts: evidence that some code ran which could be a package's own, although the package's file
 * list does not show it. A doubt never makes a package `affected`; it only keeps it from being
 * called `not_affected`. Scopes (docs/reachability.md, "Unexplained evidence"):
 *
 * - code from a path that cannot be placed in the image (`/proc/self/fd/3`, a relative path with an
 *   unknown working directory, a symlink loop, an `env` command not on PATH): every package;
 * - code from an in-image path that no package lists: every package that lists a file of the same
 *   name anywhere (a copy, or a link the image did not show), and every package with a complete
 *   file list that has files in the same directory (a list that misses files its install made);
 * - an executable whose loader or `#!` interpreter could not be read from the image: every package
 *   that ships a dynamic loader or a script interpreter;
 * - a Kubescape path collapsed into a wildcard: every package with a file the wildcard matches.
 */
import type { OwnershipIndex } from "./ownership.js";
import { codeDir, basename } from "./paths.js";
import type { InventoryPackage } from "./types.js";
import type { TraceUsage } from "./usage.js";

/** Loaders the kernel maps itself: glibc's, musl's (which is musl's libc), and older spellings. */
const LOADER = /^(?:ld-linux[^/]*\.so(?:\.\d+)*|ld-musl-[^/]+\.so\.1|ld64\.so\.\d+|ld\.so(?:\.\d+)*|libc\.musl-[^/]+\.so\.1)$/;
/** Script interpreters a `#!` line names, looked for in bin directories. */
const INTERPRETER = /^(?:sh|ash|bash|dash|ksh|mksh|zsh|busybox|env|python[\d.]*|perl[\d.]*|ruby[\d.]*|node(?:js)?|php[\d.]*|lua[\d.]*|tclsh[\d.]*)$/;
const BIN_DIR = /\/s?bin$/;

export function doubtsFromUsage(
  usage: TraceUsage,
  index: OwnershipIndex,
  packages: InventoryPackage[],
): Map<number, string[]> {
  const doubts = new Map<number, string[]>();
  const add = (i: number, why: string) => {
    const list = doubts.get(i);
    if (!list) doubts.set(i, [why]);
    else if (list.length < 3 && !list.includes(why)) list.push(why);
  };

  // What to look for, keyed by file name and by directory (the first explanation of each is kept).
  const byName = new Map<string, string>();
  const byDir = new Map<string, string>();
  for (const u of usage.unexplained) {
    const verb = u.kind === "exec" ? "was executed" : u.kind === "map" ? "was mapped executable" : "was loaded";
    if (u.path === undefined) {
      // Code from nowhere in particular: it could be any package's.
      const why = `code ${verb} from a path that cannot be placed in the image (${u.why})`;
      packages.forEach((_, i) => add(i, why));
      continue;
    }
    const why = `${u.path} ${verb} but no package lists it (${u.why}); it could be this package's`;
    const name = basename(u.path);
    if (!byName.has(name)) byName.set(name, why);
    const dir = codeDir(u.path);
    if (!byDir.has(dir)) byDir.set(dir, why);
  }
  const kernel = usage.unknownKernelLoads[0];
  const kernelWhy = kernel
    ? `${kernel} was executed and its ELF interpreter or #! line could not be read from the image, so the kernel may have run this package's loader or interpreter`
    : "";
  if (byName.size === 0 && byDir.size === 0 && !kernel) return doubts;

  // One pass over the index: the work is bounded by the packages' files, not by the trace.
  for (const [path, owners] of index.entries()) {
    const name = basename(path);
    const dir = codeDir(path);
    const sameName = byName.get(name);
    if (sameName) for (const i of owners) add(i, sameName);
    const sameDir = byDir.get(dir);
    if (sameDir) for (const i of owners) if (packages[i]!.fileEvidence === "owned") add(i, sameDir);
    if (kernel && (LOADER.test(name) || (INTERPRETER.test(name) && BIN_DIR.test(dir)))) for (const i of owners) add(i, kernelWhy);
  }
  return doubts;
}

/**
 * Kubescape collapses paths it saw many of (`/usr/lib/⋯/x.so`, `/app/*`): every package with a
 * file such a pattern could stand for may have been used.
 */
export function doubtsFromWildcards(patterns: string[], index: OwnershipIndex, into: Map<number, string[]>): void {
  if (patterns.length === 0) return;
  const compiled = patterns.map((raw) => {
    // The directory before the first wildcard goes through the image's links like any path.
    const lit = literalPrefix(raw);
    const cut = lit.lastIndexOf("/");
    const dir = cut > 0 ? index.resolver.full(lit.slice(0, cut)) : "";
    const p = dir + raw.slice(Math.max(cut, 0));
    return { p: raw, re: wildcardRegex(p), prefix: literalPrefix(p) };
  });
  for (const [path, owners] of index.entries()) {
    for (const { p, re, prefix } of compiled) {
      if (!path.startsWith(prefix) || !re.test(path)) continue;
      const why = `the trace collapsed paths into ${p}, which covers ${path}; which of them were used is unknown`;
      for (const i of owners) {
        const list = into.get(i);
        if (!list) into.set(i, [why]);
        else if (list.length < 3) list.push(why);
      }
      break;
    }
  }
}

const WILDCARD = /[⋯*]/;

function wildcardRegex(p: string): RegExp {
  const parts = p.split(/[⋯*]+/).map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

function literalPrefix(p: string): string {
  const m = WILDCARD.exec(p);
  return m ? p.slice(0, m.index) : p;
}

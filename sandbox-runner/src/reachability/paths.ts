/**
 * In-image path handling: normalisation, symlink resolution (merged-usr /lib → /usr/lib, library
 * soname links) and the Python bytecode → source mapping. Both sides of a lookup — the packages'
 * files and the trace's events — go through the same functions so they compare equal.
 */

/** Collapses //, . and .. and guarantees a leading slash; never touches the filesystem. */
export function normalisePath(p: string): string {
  if (p === "") return "/";
  const fast = p.charCodeAt(0) === 47 && !p.includes("//") && !p.includes("/.") && !p.endsWith("/");
  if (fast) return p;
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

export function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

export function joinPath(dir: string, rel: string): string {
  return normalisePath(rel.startsWith("/") ? rel : `${dir}/${rel}`);
}

// CPython (`mod.cpython-311.pyc`, `.opt-1`, `.opt-2`), PyPy (`mod.pypy39.pyc`, `mod.pypy310-pp73.pyc`)
// and any other implementation tag: `<name>.<tag>.pyc` inside __pycache__.
const PYC = /^(.*)\/__pycache__\/([^/.]+)\.[A-Za-z][\w-]*(?:\.opt-\d+)?\.pyc$/;
// Python 2 and `compileall -b` write `mod.pyc` beside `mod.py`.
const LEGACY_PYC = /^(.*\/[^/]+)\.py[co]$/;

/** `pkg/__pycache__/mod.cpython-311.pyc` → `pkg/mod.py` (the source a RECORD usually lists). */
export function pycToSource(p: string): string | undefined {
  const m = PYC.exec(p);
  if (m) return `${m[1]}/${m[2]}.py`;
  if (p.includes("/__pycache__/")) return undefined;
  const l = LEGACY_PYC.exec(p);
  return l ? `${l[1]}.py` : undefined;
}

/** The directory a file's code belongs to: the parent of `__pycache__` for bytecode caches. */
export function codeDir(p: string): string {
  const d = dirname(p);
  return d.endsWith("/__pycache__") ? dirname(d) : d;
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

const MAX_HOPS = 40;

/**
 * Resolves in-image paths the way the kernel does, through the image's symlinks: component by
 * component, a link's target read relative to the link's own directory, and `..` taken after the
 * links before it were followed (`/lib/../etc` with `/lib → usr/lib` is `/usr/etc`). `dir()`
 * resolves every component but the last (a link itself is a file a package may own); `full()`
 * follows the last component too. Directory results are memoised, so a trace of many files in few
 * directories costs one resolution per directory.
 */
export class SymlinkResolver {
  private readonly links: Map<string, string>;
  private readonly dirMemo = new Map<string, string>();
  /** Paths whose resolution hit a symlink loop (ELOOP for the kernel): not resolvable with certainty. */
  private readonly loops = new Set<string>();

  constructor(links: Map<string, string> | undefined) {
    this.links = new Map();
    for (const [from, to] of links ?? []) this.links.set(normalisePath(from), to);
  }

  get empty(): boolean {
    return this.links.size === 0;
  }

  /** Canonical directory part + the original last component. */
  dir(p: string): string {
    if (this.links.size === 0) return normalisePath(p);
    const slash = p.lastIndexOf("/");
    const base = p.slice(slash + 1);
    if (base === "" || base === "." || base === "..") return this.walk(p, true);
    const rawDir = slash <= 0 ? "/" : p.slice(0, slash);
    let cd = this.dirMemo.get(rawDir);
    if (cd === undefined) this.dirMemo.set(rawDir, (cd = this.walk(rawDir, true)));
    return cd === "/" ? `/${base}` : `${cd}/${base}`;
  }

  /** Fully canonical path (the last component followed too). */
  full(p: string): string {
    return this.follow(this.dir(p));
  }

  /** full() for a path dir() already returned (saves resolving the directory twice). */
  follow(dirResolved: string): string {
    return this.links.has(dirResolved) ? this.walk(dirResolved, true) : dirResolved;
  }

  /** True when resolving `p` (or its directory) ran into a symlink loop. */
  looped(p: string): boolean {
    if (this.loops.size === 0) return false;
    const n = normalisePath(p);
    return this.loops.has(n) || this.loops.has(dirname(n));
  }

  private walk(path: string, followLast: boolean): string {
    const done: string[] = [];
    const todo = path.split("/").reverse();
    let hops = 0;
    while (todo.length > 0) {
      const seg = todo.pop()!;
      if (seg === "" || seg === ".") continue;
      if (seg === "..") {
        done.pop();
        continue;
      }
      done.push(seg);
      if (!followLast && !todo.some((s) => s !== "" && s !== ".")) break;
      const target = this.links.get("/" + done.join("/"));
      if (target === undefined) continue;
      if (++hops > MAX_HOPS) {
        this.loops.add(normalisePath(path));
        return normalisePath(path);
      }
      done.pop();
      if (target.startsWith("/")) done.length = 0;
      const segs = target.split("/");
      for (let i = segs.length - 1; i >= 0; i--) todo.push(segs[i]!);
    }
    return "/" + done.join("/");
  }
}

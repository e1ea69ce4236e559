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

const PYC = /^(.*)\/__pycache__\/([^/]+?)\.[a-z]+-\d+(?:\.opt-\d)?\.pyc$/;

/** `pkg/__pycache__/mod.cpython-311.pyc` → `pkg/mod.py` (the source a RECORD usually lists). */
export function pycToSource(p: string): string | undefined {
  const m = PYC.exec(p);
  return m ? `${m[1]}/${m[2]}.py` : undefined;
}

const MAX_HOPS = 40;

/**
 * Resolves paths through the image's symlinks. `dir()` resolves every component but the last (a
 * link itself is a file a package may own); `full()` also follows the last component. Results are
 * memoised per directory so a trace of many files in few directories costs one resolution each.
 */
export class SymlinkResolver {
  private readonly links: Map<string, string>;
  private readonly dirMemo = new Map<string, string>();

  constructor(links: Map<string, string> | undefined) {
    this.links = new Map();
    for (const [from, to] of links ?? []) {
      const f = normalisePath(from);
      this.links.set(f, joinPath(dirname(f), to));
    }
  }

  get empty(): boolean {
    return this.links.size === 0;
  }

  /** Canonical directory part + the original last component. */
  dir(p: string): string {
    const n = normalisePath(p);
    if (this.links.size === 0) return n;
    const d = dirname(n);
    const base = n.slice(n.lastIndexOf("/") + 1);
    const cd = this.canonicalDir(d, 0);
    return cd === "/" ? `/${base}` : `${cd}/${base}`;
  }

  /** Fully canonical path (the last component followed too). */
  full(p: string): string {
    return this.follow(this.dir(p));
  }

  /** full() for a path dir() already returned (saves resolving the directory twice). */
  follow(dirResolved: string): string {
    let cur = dirResolved;
    for (let hops = 0; hops < MAX_HOPS; hops++) {
      const target = this.links.get(cur);
      if (target === undefined) return cur;
      cur = this.dir(target);
    }
    return cur;
  }

  private canonicalDir(d: string, depth: number): string {
    if (d === "/") return "/";
    const memo = this.dirMemo.get(d);
    if (memo !== undefined) return memo;
    if (depth > MAX_HOPS) return d;
    const parent = this.canonicalDir(dirname(d), depth + 1);
    const base = d.slice(d.lastIndexOf("/") + 1);
    let cur = parent === "/" ? `/${base}` : `${parent}/${base}`;
    for (let hops = 0; hops < MAX_HOPS; hops++) {
      const target = this.links.get(cur);
      if (target === undefined) break;
      cur = target === "/" ? "/" : this.canonicalDir(target, depth + hops + 1);
      if (cur === "/") break;
    }
    this.dirMemo.set(d, cur);
    return cur;
  }
}

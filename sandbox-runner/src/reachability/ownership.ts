/**
 * The file → package index. Built once per analysis in O(files); each trace event is then looked
 * up in O(1) (plus O(depth) for directory-owned npm packages), so the engine is O(files + events).
 */
import { SymlinkResolver, dirname, pycToSource } from "./paths.js";
import type { InventoryPackage } from "./types.js";

/** One package an event path belongs to, and whether another package lists the same file. */
export interface Owner {
  pkg: number;
  path: string;
  shared: boolean;
}

export class OwnershipIndex {
  /** Canonical-directory path → package index, or several when packages share the file. */
  private readonly files = new Map<string, number | number[]>();
  private readonly dirs = new Map<string, number | number[]>();
  readonly sharedCount: number[];

  constructor(
    private readonly packages: InventoryPackage[],
    readonly resolver: SymlinkResolver,
  ) {
    packages.forEach((p, i) => {
      for (const f of p.files) add(this.files, resolver.dir(f), i);
      for (const d of p.dirs) add(this.dirs, resolver.full(d), i);
    });
    this.sharedCount = packages.map(() => 0);
    for (const owners of this.files.values()) {
      if (Array.isArray(owners)) for (const i of owners) this.sharedCount[i]!++;
    }
  }

  /** Every package that owns this event path, through symlinks and the .pyc → .py mapping. */
  ownersOf(path: string): Owner[] {
    const out: Owner[] = [];
    const k1 = this.resolver.dir(path);
    this.collect(k1, out);
    if (!this.resolver.empty) {
      const k2 = this.resolver.follow(k1);
      if (k2 !== k1) this.collect(k2, out);
    }
    if (out.length === 0 && path.endsWith(".pyc")) {
      const src = pycToSource(k1);
      if (src) this.collect(src, out);
    }
    if (out.length === 0 && this.dirs.size > 0) this.collectDir(this.resolver.follow(k1), out);
    return out;
  }

  /** Every indexed file path (canonical directory form) with its owners. */
  *entries(): Iterable<[string, number[]]> {
    for (const [k, v] of this.files) yield [k, typeof v === "number" ? [v] : v];
  }

  private collect(key: string, out: Owner[]): void {
    const hit = this.files.get(key);
    if (hit === undefined) return;
    if (typeof hit === "number") pushOwner(out, hit, key, false);
    else for (const i of hit) pushOwner(out, i, key, true);
  }

  /** The deepest owning directory wins: node_modules/a/node_modules/b/x.js belongs to b. */
  private collectDir(path: string, out: Owner[]): void {
    for (let d = dirname(path); d !== "/"; d = dirname(d)) {
      const hit = this.dirs.get(d);
      if (hit === undefined) continue;
      if (typeof hit === "number") pushOwner(out, hit, path, false);
      else for (const i of hit) pushOwner(out, i, path, true);
      return;
    }
  }
}

function add(map: Map<string, number | number[]>, key: string, i: number): void {
  const prev = map.get(key);
  if (prev === undefined) map.set(key, i);
  else if (typeof prev === "number") {
    if (prev !== i) map.set(key, [prev, i]);
  } else if (!prev.includes(i)) prev.push(i);
}

function pushOwner(out: Owner[], pkg: number, path: string, shared: boolean): void {
  if (!out.some((o) => o.pkg === pkg)) out.push({ pkg, path, shared });
}

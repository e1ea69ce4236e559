/**
 * Walks the trace once and records, per package, which of its files were executed, mapped
 * executable, loaded as interpreted code, or merely opened — and which of those uses cannot be
 * attributed to one package because the file is shared.
 */
import type { RuntimeTrace } from "../trace/types.js";
import type { OwnershipIndex } from "./ownership.js";

export type UseKind = "exec" | "map" | "load" | "open";

export interface PackageUse {
  exec: Set<string>;
  map: Set<string>;
  load: Set<string>;
  open: Set<string>;
  /** Executed/mapped/loaded files another package also owns: path → kind. */
  ambiguous: Map<string, UseKind>;
}

export interface TraceUsage {
  byPackage: Map<number, PackageUse>;
  unowned: Set<string>;
  unownedCount: number;
}

/** Source and bytecode an interpreter reads to run it: opening one of these is loading code. */
const INTERPRETED = /\.(py|pyc|pyo|js|mjs|cjs|rb|php|pl|pm|lua|sh|bash)$/;
const WRITE = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
const UNOWNED_SAMPLE = 20;

export function usageFromTrace(trace: RuntimeTrace, index: OwnershipIndex): TraceUsage {
  const byPackage = new Map<number, PackageUse>();
  const unowned = new Set<string>();
  let unownedCount = 0;
  const seenUnowned = new Set<string>();

  const record = (path: string, kind: UseKind) => {
    const owners = index.ownersOf(path);
    if (owners.length === 0) {
      if (!seenUnowned.has(path)) {
        seenUnowned.add(path);
        unownedCount++;
        if (unowned.size < UNOWNED_SAMPLE) unowned.add(path);
      }
      return;
    }
    for (const o of owners) {
      let use = byPackage.get(o.pkg);
      if (!use) byPackage.set(o.pkg, (use = { exec: new Set(), map: new Set(), load: new Set(), open: new Set(), ambiguous: new Map() }));
      if (kind !== "open" && o.shared) {
        // Shared code: count it as touched (so no not_affected) but never as proof of use.
        if (!use.ambiguous.has(o.path)) use.ambiguous.set(o.path, kind);
        use.open.add(o.path);
      } else use[kind].add(o.path);
    }
  };

  for (const e of trace.execs) record(e.path, e.ok ? "exec" : "open");
  for (const m of trace.mmaps) record(m.path, m.exec ? "map" : "open");
  for (const o of trace.opens) {
    if (o.flags.includes("O_DIRECTORY")) continue;
    const code = o.ok && !WRITE.test(o.flags) && INTERPRETED.test(o.path);
    record(o.path, code ? "load" : "open");
  }
  return { byPackage, unowned, unownedCount };
}

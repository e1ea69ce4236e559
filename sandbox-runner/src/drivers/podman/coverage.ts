/**
 * Code coverage without rebuilding the image: only Node.js can do it (NODE_V8_COVERAGE), so only a
 * Node entrypoint gets it. V8 writes its JSON at process exit into a host directory mounted writable.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { CoverageResult } from "../types.js";

/** True when the image's entrypoint (or command, without one) runs node. */
export function isNodeEntrypoint(entrypoint: string[] | null | undefined, cmd: string[] | null | undefined): boolean {
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  // `node app.js`, `/usr/local/bin/node`, or a wrapper like `docker-entrypoint.sh node app.js`.
  return argv.slice(0, 2).some((a) => /^node(js)?[0-9.]*$/.test(basename(a)));
}

interface V8Coverage {
  result?: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[];
}

/** Reads V8 coverage files: per script, the fraction of its bytes that ran. */
export async function readV8Coverage(dir: string): Promise<CoverageResult> {
  const files: Record<string, number> = {};
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith(".json")) continue;
    let data: V8Coverage;
    try {
      data = JSON.parse(await readFile(join(dir, name), "utf8")) as V8Coverage;
    } catch {
      continue;
    }
    for (const script of data.result ?? []) {
      if (!script.url.startsWith("file://")) continue; // node: internals and eval'd code
      const fraction = coveredFraction(script.functions);
      const path = decodeURIComponent(new URL(script.url).pathname);
      files[path] = Math.max(files[path] ?? 0, fraction);
    }
  }
  if (Object.keys(files).length === 0) {
    return { supported: true, reason: "the Node process wrote no coverage (did it exit cleanly?)", files };
  }
  return { supported: true, files };
}

function coveredFraction(functions: NonNullable<V8Coverage["result"]>[number]["functions"]): number {
  const whole = functions[0]?.ranges[0];
  if (!whole || whole.endOffset <= 0) return 0;
  if (whole.count === 0) return 0;
  // Ranges with count 0 are the parts that never ran; nested ranges may overlap, so merge them.
  const zero = functions
    .flatMap((f) => f.ranges.filter((r) => r.count === 0))
    .sort((a, b) => a.startOffset - b.startOffset);
  let uncovered = 0;
  let end = -1;
  for (const r of zero) {
    const start = Math.max(r.startOffset, end);
    if (r.endOffset > start) uncovered += r.endOffset - start;
    end = Math.max(end, r.endOffset);
  }
  return Math.max(0, Math.min(1, 1 - uncovered / whole.endOffset));
}

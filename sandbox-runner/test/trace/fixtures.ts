/** Loads a directory of `trace.<pid>` files (strace -ff -o output) as the parser's input map. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export function loadCapture(name: string): Map<number, string> {
  const dir = join(import.meta.dirname, "fixtures", name);
  const files = new Map<number, string>();
  for (const entry of readdirSync(dir)) {
    const m = /^trace\.(\d+)$/.exec(entry);
    if (m) files.set(Number(m[1]), readFileSync(join(dir, entry), "utf8"));
  }
  return files;
}

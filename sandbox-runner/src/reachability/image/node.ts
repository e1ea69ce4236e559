/**
 * npm packages installed in `node_modules/<name>/` or `node_modules/@scope/<name>/`. npm keeps no
 * file list, so the package owns its directory: an event path belongs to the deepest package
 * directory that contains it (a nested node_modules/ is another package's).
 */
import type { PackageDraft } from "../inventory.js";
import { dirname } from "../paths.js";
import { buildPurl } from "../purl.js";

const PACKAGE_JSON = /\/node_modules\/((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/;

export function nodeDrafts(files: Map<string, string>, notes: string[]): PackageDraft[] {
  const drafts: PackageDraft[] = [];
  let unreadable = 0;
  for (const [path, text] of files) {
    if (!PACKAGE_JSON.test(path)) continue;
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch {
      unreadable++;
      continue;
    }
    if (typeof manifest !== "object" || manifest === null) continue;
    const { name, version } = manifest as { name?: unknown; version?: unknown };
    if (typeof name !== "string" || typeof version !== "string" || name === "" || version === "") continue;
    drafts.push({
      name,
      version,
      type: "npm",
      purl: buildPurl("npm", name, version),
      files: [],
      dirs: [dirname(path)],
      locations: [path],
      source: "node",
    });
  }
  if (unreadable > 0) notes.push(`${unreadable} node_modules package.json files were not valid JSON and were skipped`);
  return drafts;
}

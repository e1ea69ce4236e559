/**
 * Installed Python distributions: `<site-packages>/<name>-<version>.dist-info/RECORD` lists every
 * installed file as CSV `path,hash,size`, relative to site-packages; `METADATA` gives the canonical
 * `Name:` and `Version:`.
 */
import type { PackageDraft } from "../inventory.js";
import { dirname, joinPath } from "../paths.js";
import { buildPurl } from "../purl.js";

export function pythonDrafts(files: Map<string, string>): PackageDraft[] {
  const drafts: PackageDraft[] = [];
  for (const [path, text] of files) {
    if (!path.endsWith(".dist-info/RECORD")) continue;
    const distInfo = dirname(path);
    const sitePackages = dirname(distInfo);
    const meta = files.get(`${distInfo}/METADATA`);
    const fromMeta = meta !== undefined ? parseMetadata(meta) : {};
    const fromDir = /([^/]+?)-([^-/]+)\.dist-info$/.exec(distInfo);
    const name = fromMeta.name ?? fromDir?.[1];
    const version = fromMeta.version ?? fromDir?.[2];
    if (!name || !version) continue;
    const owned: string[] = [];
    for (const line of text.split("\n")) {
      const rel = firstCsvField(line.trim());
      if (rel) owned.push(joinPath(sitePackages, rel));
    }
    drafts.push({
      name,
      version,
      type: "python",
      purl: buildPurl("pypi", name, version),
      files: owned,
      locations: [path],
      source: "python",
    });
  }
  return drafts;
}

function parseMetadata(text: string): { name?: string; version?: string } {
  const out: { name?: string; version?: string } = {};
  for (const line of text.split("\n")) {
    if (line.trim() === "") break; // headers end at the first blank line; the body is the README
    if (line.startsWith("Name:")) out.name = line.slice(5).trim();
    else if (line.startsWith("Version:")) out.version = line.slice(8).trim();
  }
  return out;
}

/** RECORD is CSV: a path containing a comma is double-quoted, with "" for a literal quote. */
function firstCsvField(line: string): string | undefined {
  if (line === "") return undefined;
  if (!line.startsWith('"')) {
    const i = line.indexOf(",");
    return i < 0 ? line : line.slice(0, i);
  }
  let out = "";
  for (let i = 1; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      if (line[i + 1] === '"') {
        out += '"';
        i++;
      } else return out;
    } else out += ch;
  }
  return out;
}

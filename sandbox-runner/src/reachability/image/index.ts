import { finaliseInventory } from "../inventory.js";
import type { PackageInventory } from "../types.js";
import { apkDrafts } from "./apk.js";
import { dpkgDrafts } from "./dpkg.js";
import { nodeDrafts } from "./node.js";
import { pythonDrafts } from "./python.js";

/**
 * Inventory from the image's own package databases. Keys are absolute in-image paths, values the
 * file text (only the databases and manifests are needed, not the whole filesystem).
 */
export function inventoryFromImageFiles(files: Map<string, string>): PackageInventory {
  const notes: string[] = [];
  const distroId = osReleaseId(files);
  const apk = apkDrafts(files, distroId);
  const deb = dpkgDrafts(files, distroId || "debian");
  const python = pythonDrafts(files);
  const node = nodeDrafts(files, notes);
  const formats: string[] = [];
  if (apk.length) formats.push("apk-db");
  if (deb.length) formats.push("dpkg");
  if (python.length) formats.push("python-dist-info");
  if (node.length) formats.push("node_modules");
  return finaliseInventory([...apk, ...deb, ...python, ...node], formats, notes);
}

function osReleaseId(files: Map<string, string>): string {
  const text = files.get("/etc/os-release") ?? files.get("/usr/lib/os-release");
  const m = text ? /^ID="?([A-Za-z0-9._-]+)"?$/m.exec(text) : null;
  return m ? m[1]!.toLowerCase() : "";
}

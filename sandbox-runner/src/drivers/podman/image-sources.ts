/**
 * Offline image sources (RUNNER_IMAGE_SOURCES): directories holding OCI layouts (index.json +
 * blobs/) or OCI archives (*.tar). An image is taken from one only by its manifest digest.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./exec.js";

export interface SourceCandidate {
  transport: "oci" | "oci-archive";
  /** The layout directory or archive file. */
  where: string;
  /** Ref name inside the index, "" when the manifest is the index's only one. */
  refName: string;
}

/** podman transport reference for `path` (which may be a symlink to `where`). */
export function transportRef(c: SourceCandidate, path: string): string {
  return `${c.transport}:${path}${c.refName ? `:${c.refName}` : ""}`;
}

interface OciIndex {
  manifests?: { digest: string; mediaType?: string; annotations?: Record<string, string> }[];
}

const REF_NAME = "org.opencontainers.image.ref.name";

/** Finds the source holding a manifest with this digest; null when none does. */
export async function findInSources(dirs: string[], digest: string): Promise<SourceCandidate | null> {
  for (const dir of dirs) {
    for (const layout of await layoutsIn(dir)) {
      const hit = matchIndex(await readJson(join(layout, "index.json")), digest);
      if (hit !== null) return { transport: "oci", where: layout, refName: hit };
    }
    for (const archive of await archivesIn(dir)) {
      const r = await run("tar", ["-xOf", archive, "index.json"], { timeoutMs: 30_000 });
      if (r.code !== 0) continue;
      const hit = matchIndex(safeJson(r.stdout), digest);
      if (hit !== null) return { transport: "oci-archive", where: archive, refName: hit };
    }
  }
  return null;
}

/** Names in sources that carry `refName` but a different digest (to explain a mismatch). */
export async function digestsForRefInSources(dirs: string[], refName: string): Promise<string[]> {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const layout of await layoutsIn(dir)) {
      const index = (await readJson(join(layout, "index.json"))) as OciIndex | null;
      for (const m of index?.manifests ?? []) if (m.annotations?.[REF_NAME] === refName) found.push(m.digest);
    }
  }
  return found;
}

/**
 * "" when the digest is the only manifest (transport needs no ref name), the ref name when it has
 * one, null when the index does not hold the digest.
 */
export function matchIndex(index: unknown, digest: string): string | null {
  const manifests = (index as OciIndex | null)?.manifests ?? [];
  const m = manifests.find((x) => x.digest === digest);
  if (!m) return null;
  const name = m.annotations?.[REF_NAME];
  if (name) return name;
  return manifests.length === 1 ? "" : null;
}

async function layoutsIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  if (await isFile(join(dir, "index.json"))) out.push(dir);
  for (const entry of await entries(dir)) {
    if (await isFile(join(dir, entry, "index.json"))) out.push(join(dir, entry));
  }
  return out;
}

async function archivesIn(dir: string): Promise<string[]> {
  return (await entries(dir)).filter((e) => e.endsWith(".tar")).map((e) => join(dir, e));
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

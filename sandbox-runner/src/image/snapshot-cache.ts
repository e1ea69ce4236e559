/**
 * The image's filesystem snapshot (package databases, every path, symlinks, executables), kept per
 * image ID: images are content-addressed and immutable, so one read serves every later job on the
 * same image. In memory (the last `maxEntries` images, concurrent jobs sharing one read) and on disk
 * under `dir` (survives a runner restart). A read that fails is not kept.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ImageFilesystemSnapshot } from "./root-fs.js";

const FORMAT = 1;
const IMAGE_ID = /^[a-f0-9]{64}$/;

export interface SnapshotCache {
  get(imageId: string, read: () => Promise<ImageFilesystemSnapshot>): Promise<ImageFilesystemSnapshot>;
}

interface Stored {
  format: number;
  imageId: string;
  files: [string, string][];
  paths: string[];
  symlinks: [string, string][];
  executables: [string, ImageFilesystemSnapshot["executables"] extends Map<string, infer V> ? V : never][];
}

export function createSnapshotCache({ dir, maxEntries = 8, onError }: { dir: string | null; maxEntries?: number; onError?: (what: string, err: unknown) => void }): SnapshotCache {
  const memory = new Map<string, Promise<ImageFilesystemSnapshot>>();

  async function fromDisk(imageId: string): Promise<ImageFilesystemSnapshot | null> {
    if (!dir) return null;
    let text: string;
    try {
      text = await readFile(join(dir, `${imageId}.json`), "utf8");
    } catch {
      return null;
    }
    try {
      const s = JSON.parse(text) as Stored;
      if (s.format !== FORMAT || s.imageId !== imageId) return null;
      return { files: new Map(s.files), paths: new Set(s.paths), symlinks: new Map(s.symlinks), executables: new Map(s.executables) };
    } catch (err) {
      onError?.(`image index ${imageId} on disk is unreadable; reading the image again`, err);
      return null;
    }
  }

  async function toDisk(imageId: string, snap: ImageFilesystemSnapshot): Promise<void> {
    if (!dir) return;
    const stored: Stored = {
      format: FORMAT,
      imageId,
      files: [...snap.files],
      paths: [...snap.paths],
      symlinks: [...snap.symlinks],
      executables: [...snap.executables],
    };
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = join(dir, `.${imageId}.${process.pid}.${Date.now()}.tmp`);
      await writeFile(tmp, JSON.stringify(stored), { mode: 0o600 });
      await rename(tmp, join(dir, `${imageId}.json`));
    } catch (err) {
      onError?.(`image index ${imageId} could not be written`, err);
    }
  }

  return {
    get(imageId, read) {
      if (!IMAGE_ID.test(imageId)) return read();
      const hit = memory.get(imageId);
      if (hit) {
        memory.delete(imageId);
        memory.set(imageId, hit);
        return hit;
      }
      const loading = (async () => {
        const stored = await fromDisk(imageId);
        if (stored) return stored;
        const snap = await read();
        await toDisk(imageId, snap);
        return snap;
      })();
      memory.set(imageId, loading);
      loading.catch(() => memory.delete(imageId));
      while (memory.size > maxEntries) memory.delete(memory.keys().next().value!);
      return loading;
    },
  };
}

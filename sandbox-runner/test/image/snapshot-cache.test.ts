/** The image-index cache (issue #22): one read per image ID, shared by concurrent jobs, kept on disk. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSnapshotCache } from "../../src/image/snapshot-cache.js";
import type { ImageFilesystemSnapshot } from "../../src/image/root-fs.js";

const ID = "a".repeat(64);
const OTHER = "b".repeat(64);
const snapshot = (): ImageFilesystemSnapshot => ({
  files: new Map([["/var/lib/dpkg/status", "Package: bzip2\nStatus: install ok installed\n"]]),
  paths: new Set(["/usr/bin/bzip2", "/bin"]),
  symlinks: new Map([["/bin", "usr/bin"]]),
  executables: new Map([["/usr/bin/bzip2", { kind: "elf" as const, interpreter: "/lib64/ld-linux-x86-64.so.2" }]]),
});

const dirs: string[] = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), "vexxy-index-"));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("image index cache", () => {
  it("reads an image once, however many jobs ask at the same time", async () => {
    const cache = createSnapshotCache({ dir: newDir() });
    let reads = 0;
    const read = async () => {
      reads++;
      return snapshot();
    };
    const [a, b] = await Promise.all([cache.get(ID, read), cache.get(ID, read)]);
    expect(await cache.get(ID, read)).toBe(a);
    expect(b).toBe(a);
    expect(reads).toBe(1);
  });

  it("keeps the index on disk: a restarted runner reads nothing from the image", async () => {
    const dir = newDir();
    await createSnapshotCache({ dir }).get(ID, async () => snapshot());
    expect(readdirSync(dir)).toEqual([`${ID}.json`]);
    const restarted = createSnapshotCache({ dir });
    const loaded = await restarted.get(ID, async () => {
      throw new Error("the image should not be read again");
    });
    expect(loaded).toEqual(snapshot());
  });

  it("does not keep a failed read, and reads again when the file on disk is damaged", async () => {
    const dir = newDir();
    const cache = createSnapshotCache({ dir });
    await expect(cache.get(ID, async () => Promise.reject(new Error("mount failed")))).rejects.toThrow("mount failed");
    expect(await cache.get(ID, async () => snapshot())).toEqual(snapshot());

    writeFileSync(join(dir, `${OTHER}.json`), "{ not json");
    const problems: string[] = [];
    const fresh = createSnapshotCache({ dir, onError: (what) => problems.push(what) });
    let reads = 0;
    await fresh.get(OTHER, async () => (reads++, snapshot()));
    expect(reads).toBe(1);
    expect(problems.join()).toContain("unreadable");
  });

  it("keys only by image ID: anything else is read every time, and memory holds a bounded number", async () => {
    const cache = createSnapshotCache({ dir: null, maxEntries: 1 });
    let reads = 0;
    const read = async () => (reads++, snapshot());
    await cache.get("not-an-id", read);
    await cache.get("not-an-id", read);
    expect(reads).toBe(2);
    await cache.get(ID, read);
    await cache.get(OTHER, read);
    await cache.get(ID, read); // evicted by OTHER, and no disk to fall back on
    expect(reads).toBe(5);
  });
});

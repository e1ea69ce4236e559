/**
 * Unpacks an OCI image layout (`skopeo copy … oci:DIR:tag`, `umoci`, `docker buildx --output
 * type=oci`) into a root filesystem the way a container runtime does: layers applied in order,
 * whiteouts (`.wh.name`) deleting what a lower layer had, opaque directories (`.wh..wh..opq`)
 * emptied. Uses the system's tar, which detects gzip and zstd layers by itself.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export class OciLayoutError extends Error {
  override name = "OciLayoutError";
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

/** `dir` or `dir:tag`. Returns the unpacked root (a new temp directory) and the manifest digest. */
export async function unpackOciLayout(spec: string): Promise<{ root: string; manifestDigest: string; cleanup: () => Promise<void> }> {
  const colon = spec.lastIndexOf(":");
  const [dir, tag] = colon > 0 && !spec.slice(colon).includes("/") ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, undefined];
  const blob = (d: string) => join(dir, "blobs", ...d.split(":"));
  const json = async <T>(path: string): Promise<T> => {
    try {
      return JSON.parse(await readFile(path, "utf8")) as T;
    } catch (err) {
      throw new OciLayoutError(`${path}: ${(err as Error).message}`);
    }
  };
  const index = await json<{ manifests?: Descriptor[] }>(join(dir, "index.json"));
  const manifests = index.manifests ?? [];
  const named = tag ? manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag) : manifests;
  if (named.length !== 1) {
    const names = manifests.map((m) => m.annotations?.["org.opencontainers.image.ref.name"] ?? m.digest);
    throw new OciLayoutError(`${dir}: ${tag ? `no single image tagged ${tag}` : "several images"}; choose one of ${names.join(", ")} as DIR:TAG`);
  }
  let desc = named[0]!;
  let manifest = await json<{ mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] }>(blob(desc.digest));
  if (manifest.manifests) {
    // An image index: the linux/amd64 image, as the sandbox would run it.
    const pick = manifest.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ?? manifest.manifests[0];
    if (!pick) throw new OciLayoutError(`${dir}: the image index lists no images`);
    desc = pick;
    manifest = await json(blob(desc.digest));
  }
  const root = await mkdtemp(join(tmpdir(), "vexxy-oci-root-"));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    for (const layer of manifest.layers ?? []) await applyLayer(root, blob(layer.digest));
  } catch (err) {
    await cleanup();
    throw err instanceof OciLayoutError ? err : new OciLayoutError(`${dir}: ${(err as Error).message}`);
  }
  return { root, manifestDigest: desc.digest, cleanup };
}

async function applyLayer(root: string, file: string): Promise<void> {
  const { stdout } = await run("tar", ["-tf", file], { maxBuffer: 256 * 1024 * 1024 });
  for (const raw of stdout.split("\n")) {
    const entry = posix.normalize("/" + raw);
    const name = posix.basename(entry);
    if (!name.startsWith(".wh.")) continue;
    const parent = join(root, posix.dirname(entry));
    if (name === ".wh..wh..opq") {
      for (const child of await readdir(parent).catch(() => [])) await rm(join(parent, child), { recursive: true, force: true });
    } else {
      await rm(join(parent, name.slice(4)), { recursive: true, force: true });
    }
  }
  await run("tar", ["-xf", file, "-C", root, "--no-same-owner", "--exclude=.wh.*", "--exclude=*/.wh.*", "--exclude=dev/*"], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

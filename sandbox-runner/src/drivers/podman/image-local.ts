/** Finding images in podman's local storage by manifest digest. */
import { podmanOk } from "./exec.js";

export interface LocalImage {
  id: string;
  digest: string;
  names: string[];
}

interface PodmanImageJson {
  Id: string;
  Digest?: string;
  RepoDigests?: string[] | null;
  Names?: string[] | null;
}

async function listLocalImages(signal?: AbortSignal): Promise<LocalImage[]> {
  const out = await podmanOk(["images", "--all", "--digests", "--no-trunc", "--format", "json"], signal ? { signal } : {});
  const parsed = JSON.parse(out || "[]") as PodmanImageJson[];
  return parsed.map((i) => ({
    id: i.Id.replace(/^sha256:/, ""),
    digest: i.Digest ?? "",
    names: [...(i.Names ?? []), ...(i.RepoDigests ?? [])],
  }));
}

/** The local image whose manifest digest is `digest` (its own or one of its repo digests). */
export async function findImageByDigest(digest: string, signal?: AbortSignal): Promise<LocalImage | null> {
  const images = await listLocalImages(signal);
  return images.find((i) => i.digest === digest || i.names.some((n) => n.endsWith(`@${digest}`))) ?? null;
}

/** The local image a tag reference points at, if any (used to explain a digest mismatch). */
export async function findImageByRef(ref: string, signal?: AbortSignal): Promise<LocalImage | null> {
  const wanted = normalizeRef(ref);
  const images = await listLocalImages(signal);
  return images.find((i) => i.names.some((n) => normalizeRef(n) === wanted)) ?? null;
}

/** "busybox" → "docker.io/library/busybox:latest"; drops any @digest. */
export function normalizeRef(ref: string): string {
  let r = ref.split("@")[0]!;
  const slash = r.lastIndexOf("/");
  if (!r.slice(slash + 1).includes(":")) r += ":latest";
  const first = r.split("/")[0]!;
  const hasRegistry = r.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!hasRegistry) r = r.includes("/") ? `docker.io/${r}` : `docker.io/library/${r}`;
  return r;
}

/** The repository part of a reference (no tag, no digest), for `podman pull repo@digest`. */
export function repository(ref: string): string {
  const noDigest = ref.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

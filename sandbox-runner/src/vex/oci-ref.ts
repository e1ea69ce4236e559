/**
 * OCI image references (docker reference grammar) → the parts a `pkg:oci` purl needs.
 * `nginx:1.25` is docker.io/library/nginx; a first component with a dot, a colon or equal to
 * "localhost" is a registry (`localhost:5000/app`, `ghcr.io/org/app`).
 */

export interface OciReference {
  registry: string;
  /** Repository path inside the registry, e.g. library/nginx. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class OciReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OciReferenceError";
  }
}

export function parseOciReference(ref: string): OciReference {
  let rest = ref.trim().replace(/^(docker|oci):\/\//, "");
  if (rest === "" || /\s/.test(rest)) throw new OciReferenceError(`invalid image reference "${ref}"`);
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new OciReferenceError(`image reference "${ref}" has an invalid digest (expected sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new OciReferenceError(`image reference "${ref}" has an invalid tag "${tag}"`);
  }
  const parts = rest.split("/");
  let registry = "docker.io";
  const head = parts[0]!;
  if (parts.length > 1 && (head.includes(".") || head.includes(":") || head === "localhost")) {
    registry = parts.shift()!;
  }
  if (!/^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/.test(registry)) {
    throw new OciReferenceError(`image reference "${ref}" has an invalid registry "${registry}"`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
  if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new OciReferenceError(`image reference "${ref}" has an invalid repository "${repository}"`);
  }
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** purl repository_url: the full repository location; Docker Hub is spelled index.docker.io as Grype and Trivy do. */
export function repositoryUrl(ref: OciReference): string {
  const host = ref.registry === "docker.io" ? "index.docker.io" : ref.registry;
  return `${host}/${ref.repository}`;
}

/** `pkg:oci/<name>@sha256%3A<hex>` with, unless `bare`, `?repository_url=<registry/repo>`. */
export function ociPurl(ref: OciReference, digest: string, bare = false): string {
  if (!DIGEST.test(digest)) throw new OciReferenceError(`image digest "${digest}" is not sha256:<64 hex>`);
  const name = ref.repository.slice(ref.repository.lastIndexOf("/") + 1);
  const base = `pkg:oci/${name}@${digest.replace(":", "%3A")}`;
  return bare ? base : `${base}?repository_url=${repositoryUrl(ref)}`;
}

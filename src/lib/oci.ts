/**
 * OCI image references, after the distribution/reference grammar:
 * [domain[:port]/]path-component(/path-component)*[:tag][@sha256:<64 hex>]
 */
const DOMAIN = String.raw`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`[\w][\w.-]{0,127}`;
const DIGEST = String.raw`sha256:[a-f0-9]{64}`;
const REFERENCE = new RegExp(`^(?:(${DOMAIN})/)?(${COMPONENT}(?:/${COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ImageReference {
  domain: string | null;
  path: string;
  tag: string | null;
  digest: string | null;
}

export function parseImageReference(ref: string): ImageReference | null {
  if (ref.length > 512) return null;
  const m = REFERENCE.exec(ref);
  if (!m) return null;
  let domain = m[1] ?? null;
  let path = m[2]!;
  // "localhost/x" or "host.name/x" is a domain only if it has a dot, a port, or is localhost.
  if (domain && !/[.:]|^localhost$|^\[/.test(domain)) {
    path = `${domain}/${path}`;
    domain = null;
  }
  if (path.length > 255) return null;
  return { domain, path, tag: m[3] ?? null, digest: m[4] ?? null };
}

export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * Package URL helpers: enough of the purl spec to compare packages across Syft, CycloneDX, SPDX,
 * Grype and Trivy, which spell qualifiers differently (distro=alpine-3.17.2 vs distro=3.17.2).
 */

export interface ParsedPurl {
  type: string;
  namespace: string;
  name: string;
  version: string;
}

/** Older Syft (≤0.50) wrote pkg:alpine/…, pkg:debian/…; the spec types are apk and deb. */
const TYPE_ALIASES: Record<string, string> = { alpine: "apk", debian: "deb", python: "pypi" };

/** Syft package `type` → purl type. */
const SYFT_TYPES: Record<string, string> = {
  apk: "apk",
  deb: "deb",
  rpm: "rpm",
  python: "pypi",
  npm: "npm",
  "go-module": "golang",
  "java-archive": "maven",
  "jenkins-plugin": "maven",
  gem: "gem",
  "rust-crate": "cargo",
  "php-composer": "composer",
  "dotnet": "nuget",
  binary: "generic",
};

export function parsePurl(purl: string): ParsedPurl | undefined {
  if (!purl.startsWith("pkg:")) return undefined;
  let rest = purl.slice(4);
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  let epoch = "";
  if (q >= 0) {
    // Trivy spells a Debian/RPM epoch as a qualifier (zlib1g@1.2.13.dfsg-1?epoch=1).
    epoch = /(?:^|&)epoch=(\d+)(?:&|$)/.exec(rest.slice(q + 1))?.[1] ?? "";
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  const type = rest.slice(0, slash).toLowerCase();
  let path = rest.slice(slash + 1).replace(/^\/+/, "");
  let version = "";
  const at = path.lastIndexOf("@");
  if (at >= 0) {
    version = safeDecode(path.slice(at + 1));
    if (epoch && !version.includes(":")) version = `${epoch}:${version}`;
    path = path.slice(0, at);
  }
  const segs = path.split("/").filter((s) => s !== "").map(safeDecode);
  const name = segs.pop();
  if (!name) return undefined;
  return { type: TYPE_ALIASES[type] ?? type, namespace: segs.join("/"), name, version };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The purl without qualifiers and subpath: matches any scanner's spelling of the same package. */
export function stripPurl(purl: string): string {
  return purl.replace(/[?#].*$/, "");
}

export function ecosystemOf(type: string | undefined, purl: string | undefined): string {
  const p = purl ? parsePurl(purl) : undefined;
  if (p) return p.type;
  if (!type) return "generic";
  const t = type.toLowerCase();
  return SYFT_TYPES[t] ?? TYPE_ALIASES[t] ?? t;
}

/** PEP 503 normalisation for Python names; other ecosystems compare case-insensitively. */
function normaliseName(ecosystem: string, name: string): string {
  const n = name.toLowerCase();
  return ecosystem === "pypi" ? n.replace(/[-_.]+/g, "-") : n;
}

/** Identity used to merge inventories and to match scanner results to packages. */
function identityKey(ecosystem: string, name: string, version: string): string {
  return `${ecosystem}\u0000${normaliseName(ecosystem, name)}\u0000${version}`;
}

/** Ecosystems whose purl namespace is part of the package's name (scope, groupId, module path, vendor). */
const NAMESPACED: Record<string, string> = { npm: "/", golang: "/", composer: "/", maven: ":" };

/**
 * The identity key of a package as any input describes it: `@types/node` and `@acme/node` stay
 * apart, as do Maven `org.a:utils` and `org.b:utils`; a distro namespace (debian, alpine) is not
 * part of the name.
 */
export function packageIdentity(p: { ecosystem?: string; type?: string; name: string; version: string; purl?: string }): string {
  const parsed = p.purl ? parsePurl(p.purl) : undefined;
  const ecosystem = ecosystemOf(p.ecosystem ?? p.type, p.purl);
  const sep = NAMESPACED[ecosystem];
  let name = p.name;
  if (sep && parsed?.namespace && !name.includes(sep) && !(sep === ":" && name.includes("/"))) name = `${parsed.namespace}${sep}${name}`;
  return identityKey(ecosystem, name, p.version || parsed?.version || "");
}

/** Best-effort purl for packages found in the image's own databases. */
export function buildPurl(
  ecosystem: string,
  name: string,
  version: string,
  opts: { namespace?: string; arch?: string } = {},
): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%3A/gi, ":");
  let ns = opts.namespace ? `${opts.namespace.split("/").map(enc).join("/")}/` : "";
  let n = name;
  if (ecosystem === "npm" && name.startsWith("@") && name.includes("/")) {
    const [scope, bare] = name.split("/", 2) as [string, string];
    ns = `${enc(scope)}/`;
    n = bare;
  }
  if (ecosystem === "pypi") n = normaliseName("pypi", name);
  const q = opts.arch ? `?arch=${enc(opts.arch)}` : "";
  return `pkg:${ecosystem}/${ns}${enc(n)}@${enc(version)}${q}`;
}

/**
 * The registry egress policy, one rule for both sides: the Worker applies it to an image reference's
 * registry at submit (names and literal addresses only: it cannot resolve), and the runner applies it
 * again to every address a pull actually connects to (after its own DNS resolution, so a name that
 * resolves, or later re-resolves, to an internal address is refused too).
 *
 * Denied by default: loopback, unspecified, link-local (including the cloud metadata addresses
 * 169.254.169.254 and fd00:ec2::254), private and shared ranges (RFC 1918, RFC 6598, IPv6 ULA),
 * multicast, reserved and documentation ranges, and names that can only mean something internal
 * (`localhost`, single-label names that resolve through search domains, `.local`, `.internal`, ...).
 * The only exception is the operator's list, `RUNNER_ALLOWED_REGISTRIES` (comma-separated
 * `host[:port]`; an entry without a port is the registry's default port, 443).
 *
 * Pure: no I/O, available in workerd and Node.
 */

/** Why an address or name is refused; null when it is allowed. */
export type EgressDenial =
  | "loopback"
  | "unspecified"
  | "link_local"
  | "private"
  | "multicast"
  | "reserved"
  | "internal_name";

/** The registry an image reference pulls from, as podman and Docker read it (docker.io when none). */
export function registryOfReference(ref: string): string {
  const slash = ref.indexOf("/");
  if (slash < 0) return "docker.io";
  const first = ref.slice(0, slash);
  return /[.:]|^localhost$|^\[/.test(first) ? first : "docker.io";
}

/** `host[:port]` → normalized { host, port } (lowercase, IPv4 in dotted form, IPv6 bracketed); null if unparsable. */
export function parseRegistryHost(hostPort: string): { host: string; port: number } | null {
  let url: URL;
  try {
    url = new URL(`https://${hostPort.trim()}/`);
  } catch {
    return null;
  }
  if (url.username || url.password || url.pathname !== "/" || url.search || url.hash || !url.hostname) return null;
  return { host: url.hostname, port: url.port ? Number(url.port) : 443 };
}

/** The operator's allow-list (RUNNER_ALLOWED_REGISTRIES), normalized to `host:port` keys; throws on a bad entry. */
export function parseAllowedRegistries(list: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const raw of (list ?? "").split(",")) {
    const entry = raw.trim();
    if (!entry) continue;
    const parsed = parseRegistryHost(entry);
    if (!parsed) throw new Error(`RUNNER_ALLOWED_REGISTRIES: "${entry}" is not host[:port]`);
    out.add(`${parsed.host}:${parsed.port}`);
  }
  return out;
}

export function isAllowedRegistry(host: string, port: number, allowed: Set<string>): boolean {
  return allowed.has(`${host}:${port}`);
}

/** Name suffixes that only resolve inside a site or cluster. */
const INTERNAL_SUFFIXES = [".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".svc"];

/**
 * The policy for a registry as written (no resolution): a literal address is classified, a name is
 * refused when it can only be internal. Allowed entries pass whatever they are.
 */
export function checkRegistryName(hostPort: string, allowed: Set<string>): { ok: true; host: string; port: number } | { ok: false; reason: EgressDenial | "invalid" } {
  const parsed = parseRegistryHost(hostPort);
  if (!parsed) return { ok: false, reason: "invalid" };
  const { host, port } = parsed;
  if (isAllowedRegistry(host, port, allowed)) return { ok: true, host, port };
  const literal = host.startsWith("[") ? host.slice(1, -1) : isIPv4(host) ? host : null;
  if (literal !== null) {
    const denial = classifyAddress(literal);
    return denial ? { ok: false, reason: denial } : { ok: true, host, port };
  }
  const name = host.replace(/\.$/, "");
  if (name === "localhost" || !name.includes(".") || INTERNAL_SUFFIXES.some((s) => name.endsWith(s))) {
    return { ok: false, reason: "internal_name" };
  }
  return { ok: true, host, port };
}

/** Classifies an IP address (v4 dotted or v6); null when it is a public unicast address. */
export function classifyAddress(ip: string): EgressDenial | null {
  if (isIPv4(ip)) return classifyV4(v4ToInt(ip));
  const groups = parseIPv6(ip);
  if (!groups) return "reserved";
  return classifyV6(groups);
}

// ------------------------------------------------------------------ IPv4

function isIPv4(s: string): boolean {
  return /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
}

function v4ToInt(s: string): number {
  return s.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
}

function inV4(ip: number, base: string, bits: number): boolean {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return ip >= start && ip < start + size;
}

const V4_RANGES: [string, number, EgressDenial][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"], // shared address space (carrier-grade NAT), RFC 6598
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link_local"], // includes the metadata address 169.254.169.254
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["192.0.2.0", 24, "reserved"], // TEST-NET-1
  ["192.88.99.0", 24, "reserved"], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"], // benchmarking
  ["198.51.100.0", 24, "reserved"], // TEST-NET-2
  ["203.0.113.0", 24, "reserved"], // TEST-NET-3
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // includes broadcast
];

function classifyV4(ip: number): EgressDenial | null {
  for (const [base, bits, denial] of V4_RANGES) if (inV4(ip, base, bits)) return denial;
  return null;
}

// ------------------------------------------------------------------ IPv6

/** Eight 16-bit groups, or null when not an IPv6 address. Accepts `::` and a trailing dotted IPv4. */
function parseIPv6(s: string): number[] | null {
  let text = s.toLowerCase().replace(/%.*$/, "");
  const lastColon = text.lastIndexOf(":");
  const v4 = text.slice(lastColon + 1);
  if (lastColon >= 0 && v4.includes(".")) {
    if (!isIPv4(v4)) return null;
    const n = v4ToInt(v4);
    text = `${text.slice(0, lastColon + 1)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const part = (h: string) => (h === "" ? [] : h.split(":"));
  const head = part(halves[0]!);
  const rest = halves.length === 2 ? part(halves[1]!) : [];
  const groups = [...head, ...rest].map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  if (groups.some(Number.isNaN)) return null;
  const missing = 8 - groups.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  return [...groups.slice(0, head.length), ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...groups.slice(head.length)];
}

function classifyV6(g: number[]): EgressDenial | null {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const embeddedV4 = () => classifyV4(g[6]! * 65536 + g[7]!);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the IPv4 address decides.
  if (zeroUpTo(5) && g[5] === 0xffff) return embeddedV4();
  if (zeroUpTo(6)) return embeddedV4() ?? "reserved";
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embeddedV4();
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return "private"; // fc00::/7 unique local (includes fd00:ec2::254)
  if ((first & 0xffc0) === 0xfe80) return "link_local"; // fe80::/10
  if ((first & 0xffc0) === 0xfec0) return "private"; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return "multicast";
  if (first === 0x2001 && g[1] === 0x0db8) return "reserved"; // documentation
  if (first === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return "reserved"; // discard prefix
  if (first === 0x2002) return embeddedV4From6to4(g); // 6to4 carries an IPv4 address in bits 16..48
  return null;
}

function embeddedV4From6to4(g: number[]): EgressDenial | null {
  return classifyV4(g[1]! * 65536 + g[2]!);
}

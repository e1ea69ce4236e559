/**
 * The registry egress guard for pulls the runner makes itself (podman driver). A pull runs with
 * HTTPS_PROXY/HTTP_PROXY pointing at a proxy of its own on 127.0.0.1, started for that pull. The
 * proxy resolves every host the pull connects to — the registry, its token service, the blob store
 * it redirects to — checks every resolved address against the egress policy (@vexxy/contract), and
 * connects to the very address it checked. So a name that resolves to an internal address is refused,
 * and DNS rebinding between a check and the connection is impossible: there is one resolution.
 *
 * Go's proxy support (podman's) never proxies a literal loopback address or `localhost`; those are
 * refused before the pull starts (checkPullTarget) unless the operator allowed them.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, isIP, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { classifyAddress, isAllowedRegistry, parseRegistryHost, type EgressDenial } from "@vexxy/contract";

export type Lookup = (host: string) => Promise<string[]>;

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface Refusal {
  host: string;
  port: number;
  reason: EgressDenial | "unresolvable";
  address?: string;
}

export interface EgressProxy {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY and HTTP_PROXY. */
  url: string;
  /** What was refused so far, for the pull's classified error. */
  refusals: Refusal[];
  close(): Promise<void>;
}

/**
 * Resolves `host` and returns the address to connect to, or the refusal: every address must be
 * allowed (a name with one internal address among public ones is refused), unless `host:port` is
 * on the operator's list.
 */
export async function resolveAllowed(
  host: string,
  port: number,
  allowed: Set<string>,
  lookup: Lookup = systemLookup,
): Promise<{ address: string } | Refusal> {
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  let addresses: string[];
  try {
    addresses = isIP(bare) ? [bare] : await lookup(bare);
  } catch {
    return { host, port, reason: "unresolvable" };
  }
  if (addresses.length === 0) return { host, port, reason: "unresolvable" };
  if (!isAllowedRegistry(host, port, allowed)) {
    for (const address of addresses) {
      const denial = classifyAddress(address);
      if (denial) return { host, port, reason: denial, address };
    }
  }
  return { address: addresses[0]! };
}

export async function startEgressProxy(opts: { allowed: Set<string>; lookup?: Lookup }): Promise<EgressProxy> {
  const refusals: Refusal[] = [];
  const sockets = new Set<Socket>();
  const target = async (hostPort: string, defaultPort: number) => {
    const parsed = parseRegistryHost(hostPort);
    if (!parsed) return { host: hostPort, port: defaultPort, reason: "unresolvable" as const };
    const port = hostPort.includes(":") && !hostPort.endsWith("]") ? parsed.port : defaultPort;
    const r = await resolveAllowed(parsed.host, port, opts.allowed, opts.lookup);
    if ("reason" in r) refusals.push(r);
    return { ...r, port };
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Plain-http registries: an absolute-form request, forwarded to the checked address.
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (url.protocol !== "http:") {
      res.writeHead(400).end();
      return;
    }
    void target(url.host, 80).then((t) => {
      if ("reason" in t) {
        // Refused by policy: 403. Not resolvable: 502, as any proxy answers (the pull is then unreachable).
        res.writeHead(t.reason === "unresolvable" ? 502 : 403, { "X-Egress-Refused": t.reason }).end();
        return;
      }
      const upstream = httpRequest(
        { host: t.address, port: t.port, method: req.method, path: `${url.pathname}${url.search}`, headers: { ...req.headers, host: url.host } },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", () => res.headersSent ? res.destroy() : res.writeHead(502).end());
      req.pipe(upstream);
    });
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    void target(req.url ?? "", 443).then((t) => {
      if ("reason" in t) {
        const status = t.reason === "unresolvable" ? "502 Bad Gateway" : "403 Forbidden";
        client.end(`HTTP/1.1 ${status}\r\nX-Egress-Refused: ${t.reason}\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      const upstream = connect(t.port, t.address, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      sockets.add(upstream);
      upstream.on("close", () => sockets.delete(upstream));
      upstream.on("error", () => {
        if (!client.destroyed) client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refusals,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The environment a pull runs with: every connection through the proxy, no exceptions inherited. */
export function proxyEnv(proxy: EgressProxy): Record<string, string> {
  return { HTTPS_PROXY: proxy.url, https_proxy: proxy.url, HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "" };
}

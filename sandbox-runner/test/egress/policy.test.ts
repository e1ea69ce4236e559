/** The registry egress policy (@vexxy/contract) and the runner's pull proxy, without podman. */
import { connect } from "node:net";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { checkRegistryName, classifyAddress, parseAllowedRegistries, registryOfReference } from "@vexxy/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEgressProxy } from "../../src/egress/proxy.js";

describe("classifyAddress", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", null],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "link_local"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["198.18.0.1", "reserved"],
    ["8.8.8.8", null],
    ["140.82.112.3", null],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "link_local"],
    ["::ffff:8.8.8.8", null],
    ["64:ff9b::a9fe:a9fe", "link_local"],
    ["2002:7f00:1::", "loopback"],
    ["fe80::1%eth0", "link_local"],
    ["fd00:ec2::254", "private"],
    ["fc00::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["2606:4700:4700::1111", null],
    ["not-an-address", "reserved"],
  ];
  for (const [ip, want] of cases) it(`${ip} → ${want}`, () => expect(classifyAddress(ip)).toBe(want));
});

describe("checkRegistryName", () => {
  const none = new Set<string>();
  it("refuses internal addresses however they are spelled", () => {
    for (const [host, reason] of [
      ["127.0.0.1:5000", "loopback"],
      ["0x7f.0.0.1:5000", "loopback"],
      ["2130706433", "loopback"],
      ["017700000001", "loopback"],
      ["[::1]:5000", "loopback"],
      ["[::ffff:127.0.0.1]", "loopback"],
      ["169.254.169.254", "link_local"],
      ["[fd00:ec2::254]", "private"],
      ["localhost", "internal_name"],
      ["LOCALHOST:5000", "internal_name"],
      ["registry:5000", "internal_name"],
      ["foo.localhost", "internal_name"],
      ["metadata.google.internal", "internal_name"],
      ["kubernetes.default.svc", "internal_name"],
      ["printer.local", "internal_name"],
    ] as const) {
      expect(checkRegistryName(host, none), host).toEqual({ ok: false, reason });
    }
  });

  it("lets public registries through, and exactly the allowed host:port pairs", () => {
    expect(checkRegistryName("docker.io", none)).toEqual({ ok: true, host: "docker.io", port: 443 });
    expect(checkRegistryName("ghcr.io", none).ok).toBe(true);
    expect(checkRegistryName("8.8.8.8:5000", none).ok).toBe(true);
    const allowed = parseAllowedRegistries(" localhost , 127.0.0.1:5000,Registry.Internal:8443");
    expect(checkRegistryName("localhost", allowed).ok).toBe(true);
    expect(checkRegistryName("localhost:443", allowed).ok).toBe(true);
    expect(checkRegistryName("localhost:5000", allowed).ok).toBe(false);
    expect(checkRegistryName("127.0.0.1:5000", allowed).ok).toBe(true);
    expect(checkRegistryName("127.0.0.1:5001", allowed).ok).toBe(false);
    expect(checkRegistryName("registry.internal:8443", allowed).ok).toBe(true);
  });

  it("refuses a malformed allow-list entry", () => {
    expect(() => parseAllowedRegistries("ok.example, http://x/y")).toThrow(/"http:\/\/x\/y" is not host\[:port\]/);
  });
});

describe("registryOfReference", () => {
  it("reads the registry as Docker and podman do", () => {
    expect(registryOfReference("nginx")).toBe("docker.io");
    expect(registryOfReference("library/nginx:1.25")).toBe("docker.io");
    expect(registryOfReference("localhost/app")).toBe("localhost");
    expect(registryOfReference("127.0.0.1:5000/app")).toBe("127.0.0.1:5000");
    expect(registryOfReference("[::1]:5000/app")).toBe("[::1]:5000");
    expect(registryOfReference("registry:5000/app")).toBe("registry:5000");
    expect(registryOfReference("ghcr.io/org/app@sha256:" + "a".repeat(64))).toBe("ghcr.io");
  });
});

describe("the pull proxy", () => {
  let upstream: Server;
  let upstreamPort = 0;
  let hosts: string[] = [];

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      hosts.push(req.headers.host ?? "");
      res.end("upstream");
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    upstreamPort = (upstream.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

  const names: Record<string, string[]> = {
    "public.example": ["140.82.112.3"],
    "rebind.example": ["127.0.0.1"],
    "mixed.example": ["140.82.112.3", "10.0.0.1"],
    "trusted.example": ["127.0.0.1"],
  };
  const lookup = async (host: string) => {
    if (!names[host]) throw new Error("ENOTFOUND");
    return names[host]!;
  };

  /** Sends CONNECT host:port through the proxy; returns the proxy's status line. */
  function connectVia(proxyUrl: string, target: string): Promise<string> {
    const { port } = new URL(proxyUrl);
    return new Promise((resolve, reject) => {
      const sock = connect(Number(port), "127.0.0.1", () => sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
      sock.once("data", (d) => {
        resolve(d.toString().split("\r\n")[0]!);
        sock.destroy();
      });
      sock.on("error", reject);
    });
  }

  it("refuses tunnels to internal addresses by name or literal, records why, and tunnels to allowed ones", async () => {
    const proxy = await startEgressProxy({ allowed: parseAllowedRegistries(`trusted.example:${upstreamPort}`), lookup });
    try {
      expect(await connectVia(proxy.url, `rebind.example:${upstreamPort}`)).toMatch(/^HTTP\/1.1 403/);
      expect(await connectVia(proxy.url, `mixed.example:443`)).toMatch(/^HTTP\/1.1 403/);
      expect(await connectVia(proxy.url, `127.0.0.1:${upstreamPort}`)).toMatch(/^HTTP\/1.1 403/);
      expect(await connectVia(proxy.url, `[::1]:${upstreamPort}`)).toMatch(/^HTTP\/1.1 403/);
      expect(await connectVia(proxy.url, `nowhere.example:443`)).toMatch(/^HTTP\/1.1 502/);
      expect(proxy.refusals.map((r) => r.reason)).toEqual(["loopback", "private", "loopback", "loopback", "unresolvable"]);
      expect(await connectVia(proxy.url, `trusted.example:${upstreamPort}`)).toBe("HTTP/1.1 200 Connection Established");
    } finally {
      await proxy.close();
    }
  });

  it("forwards plain-http requests to the address it checked, keeping the Host header", async () => {
    const proxy = await startEgressProxy({ allowed: parseAllowedRegistries(`trusted.example:${upstreamPort}`), lookup });
    const { port } = new URL(proxy.url);
    const get = (url: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1", () => sock.write(`GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n\r\n`));
        let text = "";
        sock.on("data", (d) => (text += d.toString()));
        sock.on("end", () => resolve({ status: Number(text.split(" ")[1]), body: text.split("\r\n\r\n")[1] ?? "" }));
        sock.on("error", reject);
      });
    try {
      hosts = [];
      expect(await get(`http://trusted.example:${upstreamPort}/v2/`)).toMatchObject({ status: 200 });
      expect(hosts).toEqual([`trusted.example:${upstreamPort}`]);
      expect((await get(`http://rebind.example:${upstreamPort}/v2/`)).status).toBe(403);
      expect(hosts).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Pulls under the registry egress policy, with real podman against Debian's docker-registry on
 * 127.0.0.1 (images pushed with skopeo) and small stand-ins for hostile or broken registries. A job
 * may not make the runner connect to an internal address, whether named directly or through a
 * name that resolves there, and a failed pull reports a short reason, never the network's words.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllowedRegistries } from "@vexxy/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PodmanDriver } from "../../src/drivers/podman/index.js";
import { ensureImages, failure, removeVariant, skipReason, targetSpec, variantImage } from "./images.js";

const never = new AbortController().signal;
/** A digest nothing on this machine has, so every attempt goes to the network. */
const absent = "sha256:" + "d".repeat(64);
const registryMissing = spawnSyncOk("docker-registry", ["--version"]) ? null : "docker-registry is not installed";

function spawnSyncOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}


async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** A TCP listener that only counts who connects: a pull that was refused must leave it at zero. */
async function countingListener(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: TcpServer = createTcpServer((sock) => {
    n++;
    sock.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, connections: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

describe.skipIf(skipReason ?? registryMissing)("pulls under the registry egress policy", () => {
  let registry: ChildProcess;
  let port = 0;
  let work = "";
  let variant: { layout: string; digest: string };
  let denier: Server;
  let denierPort = 0;
  const previousRegistriesConf = process.env.CONTAINERS_REGISTRIES_CONF;

  beforeAll(async () => {
    ensureImages();
    work = mkdtempSync(join(tmpdir(), "vexxy-registry-"));
    port = await freePort();
    writeFileSync(
      join(work, "config.yml"),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${work}/data\nhttp:\n  addr: 127.0.0.1:${port}\nlog:\n  level: error\n`,
    );
    registry = spawn("docker-registry", ["serve", join(work, "config.yml")], { stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // A registry that wants credentials (answers every request 401, as a private registry does).
    denier = createServer((_req, res) => res.writeHead(401, { "WWW-Authenticate": 'Basic realm="private"', "Docker-Distribution-API-Version": "registry/2.0" }).end());
    await new Promise<void>((r) => denier.listen(0, "127.0.0.1", r));
    denierPort = (denier.address() as AddressInfo).port;
    // Plain-http registries podman may use (TLS is the default everywhere else).
    writeFileSync(
      join(work, "registries.conf"),
      [`127.0.0.1:${port}`, `registry.example.com:${port}`, `127.0.0.1:${denierPort}`]
        .map((l) => `[[registry]]\nlocation = "${l}"\ninsecure = true\n`)
        .join("\n"),
    );
    process.env.CONTAINERS_REGISTRIES_CONF = join(work, "registries.conf");
    variant = variantImage("pushed", []);
    execFileSync("skopeo", [
      "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
      `oci:${variant.layout}/oci:pushed`, `docker://127.0.0.1:${port}/team/app:pushed`,
    ]);
  }, 120_000);

  afterAll(async () => {
    if (previousRegistriesConf === undefined) delete process.env.CONTAINERS_REGISTRIES_CONF;
    else process.env.CONTAINERS_REGISTRIES_CONF = previousRegistriesConf;
    registry?.kill("SIGKILL");
    await new Promise((r) => denier?.close(r));
    if (variant) removeVariant(variant);
    rmSync(work, { recursive: true, force: true });
  });

  const driverAllowing = (list: string, names: Record<string, string[]> = {}) =>
    new PodmanDriver({
      pullPolicy: {
        allowedRegistries: parseAllowedRegistries(list),
        lookup: async (host) => {
          const addresses = names[host];
          if (!addresses) throw new Error(`ENOTFOUND ${host}`);
          return addresses;
        },
      },
    });

  it("refuses a loopback registry that is not allowed, before connecting to it", async () => {
    const listener = await countingListener();
    try {
      const e = await failure(driverAllowing("").prepareImage(targetSpec(absent, { imageRef: `127.0.0.1:${listener.port}/team/app:1` }), never));
      expect(e.code).toBe("image_unavailable");
      expect(e.message).toContain("is not allowed");
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("refuses a public-looking name that resolves to an internal address (DNS rebinding), before connecting", async () => {
    const listener = await countingListener();
    try {
      for (const addresses of [["127.0.0.1"], ["140.82.112.3", "127.0.0.1"], ["169.254.169.254"]]) {
        const driver = driverAllowing("", { "registry.rebind.example": addresses });
        const e = await failure(driver.prepareImage(targetSpec(absent, { imageRef: `registry.rebind.example:${listener.port}/team/app:1` }), never));
        expect(e.code, addresses.join()).toBe("image_unavailable");
        expect(e.message).toContain("registry.rebind.example is not allowed");
      }
      expect(listener.connections()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("pulls from a registry the operator allowed, directly and through the proxy, pinned by digest", async () => {
    // Named by address (podman connects to loopback directly)...
    await driverAllowing(`127.0.0.1:${port}`).prepareImage(targetSpec(variant.digest, { imageRef: `127.0.0.1:${port}/team/app:pushed` }), never);
    removeVariant({ layout: mkdtempSync(join(tmpdir(), "vexxy-none-")), digest: variant.digest });
    // ...and by a name resolving there (every request goes through the runner's proxy).
    const named = driverAllowing(`registry.example.com:${port}`, { "registry.example.com": ["127.0.0.1"] });
    await named.prepareImage(targetSpec(variant.digest, { imageRef: `registry.example.com:${port}/team/app:pushed` }), never);
  });

  it("reports a missing digest as not found, a private registry as unauthorized, a dead one as unreachable", async () => {
    const missing = "sha256:" + "e".repeat(64);
    const notFound = await failure(driverAllowing(`127.0.0.1:${port}`).prepareImage(targetSpec(missing, { imageRef: `127.0.0.1:${port}/team/app:1` }), never));
    expect(notFound.message).toMatch(/could not be pulled: not found/);

    const unauthorized = await failure(
      driverAllowing(`127.0.0.1:${denierPort}`).prepareImage(targetSpec(missing, { imageRef: `127.0.0.1:${denierPort}/team/app:1` }), never),
    );
    expect(unauthorized.message).toMatch(/could not be pulled: unauthorized/);

    const closed = await freePort();
    const dead = await failure(driverAllowing(`127.0.0.1:${closed}`).prepareImage(targetSpec(missing, { imageRef: `127.0.0.1:${closed}/team/app:1` }), never));
    expect(dead.message).toMatch(/could not be pulled: registry unreachable$/);
    // The network's own words (a port oracle) never reach the job's error.
    for (const e of [notFound, unauthorized, dead]) expect(e.message).not.toMatch(/refused|dial|tcp|HTTP response|https/i);
  });
});

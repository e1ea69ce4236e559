import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

const secret = "s".repeat(32);

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({ RUNNER_SECRET: secret });
    expect(c).toMatchObject({
      port: 8002,
      host: "127.0.0.1",
      workerUrl: "http://127.0.0.1:8001",
      maxConcurrent: 2,
      driver: "podman",
      heartbeatSeconds: 15,
      shutdownGraceSeconds: 30,
      limits: { memoryBytes: 512 * 1024 * 1024, cpus: 1, pids: 256 },
      vex: { author: "VEXxy Premium Analysis" },
      imageSources: [],
      kubernetes: { namespace: "vexxy-sandbox", inCluster: false },
    });
  });

  it("reads and converts every variable", () => {
    const c = loadConfig({
      RUNNER_SECRET: secret,
      RUNNER_PORT: "9000",
      WORKER_URL: "https://worker.example/",
      RUNNER_MAX_CONCURRENT: "4",
      RUNNER_DRIVER: "kubernetes",
      RUNNER_MEMORY_MB: "1024",
      RUNNER_CPUS: "0.5",
      VEX_ROLE: "Document Creator",
      RUNNER_IMAGE_SOURCES: "docker.io, ghcr.io ,",
      K8S_IN_CLUSTER: "true",
    });
    expect(c).toMatchObject({
      port: 9000,
      workerUrl: "https://worker.example",
      maxConcurrent: 4,
      driver: "kubernetes",
      limits: { memoryBytes: 1024 * 1024 * 1024, cpus: 0.5 },
      vex: { role: "Document Creator" },
      imageSources: ["docker.io", "ghcr.io"],
      kubernetes: { inCluster: true },
    });
  });

  it("gives the runner a stable identity (host name and port) unless RUNNER_ID names one", async () => {
    const { hostname } = await import("node:os");
    const a = loadConfig({ RUNNER_SECRET: secret, RUNNER_PORT: "8123" });
    expect(a.runnerId).toBe(`${hostname().replace(/[^A-Za-z0-9_.-]/g, "-")}-8123`);
    expect(loadConfig({ RUNNER_SECRET: secret, RUNNER_PORT: "8123" }).runnerId).toBe(a.runnerId); // the same after a restart
    expect(loadConfig({ RUNNER_SECRET: secret, RUNNER_PORT: "8124" }).runnerId).not.toBe(a.runnerId); // another runner on the host
    expect(loadConfig({ RUNNER_SECRET: secret, RUNNER_ID: "runner-a" }).runnerId).toBe("runner-a");
    expect(() => loadConfig({ RUNNER_SECRET: secret, RUNNER_ID: "no spaces" })).toThrow(/RUNNER_ID must be/);
    // Allow-listed registries and the rotation secret are read too.
    const b = loadConfig({ RUNNER_SECRET: secret, RUNNER_ALLOWED_REGISTRIES: "localhost, 127.0.0.1:5000", RUNNER_SECRET_PREVIOUS: "p".repeat(32) });
    expect([...b.allowedRegistries]).toEqual(["localhost:443", "127.0.0.1:5000"]);
    expect(b.previousSecret).toBe("p".repeat(32));
  });

  it("names a missing secret", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(/RUNNER_SECRET: RUNNER_SECRET is required/);
  });

  it("names every wrong variable at once", () => {
    try {
      loadConfig({ RUNNER_SECRET: "short", RUNNER_DRIVER: "docker", RUNNER_MAX_CONCURRENT: "0", WORKER_URL: "not a url" });
      expect.unreachable();
    } catch (err) {
      const problems = (err as ConfigError).problems.join("\n");
      expect(problems).toContain("RUNNER_SECRET: RUNNER_SECRET must be at least 32 characters");
      expect(problems).toContain("RUNNER_DRIVER");
      expect(problems).toContain("RUNNER_MAX_CONCURRENT");
      expect(problems).toContain("WORKER_URL");
    }
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ RUNNER_SECRET: secret, RUNNER_PORT: "", VEX_ROLE: "" })).toMatchObject({ port: 8002, vex: { author: "VEXxy Premium Analysis" } });
    expect(loadConfig({ RUNNER_SECRET: secret, VEX_ROLE: "" }).vex.role).toBeUndefined();
  });
});

/** Shared set-up: the fake API server, a kubeconfig pointing at it, a driver configured for it. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubernetesConfig } from "../../src/drivers/kubernetes/config.js";
import { kubeConfigFor, makeKubeClients } from "../../src/drivers/kubernetes/client.js";
import { KubernetesDriver } from "../../src/drivers/kubernetes/driver.js";
import { LABEL } from "../../src/drivers/kubernetes/names.js";
import type { SandboxLimits, SandboxSpec } from "../../src/drivers/types.js";
import { FakeKube } from "../fake-kube/control.js";
import type { ApiCall } from "../fake-kube/server.js";
import type { Obj } from "../fake-kube/store.js";

export const NS = "vexxy-sandbox";
const pin = (repo: string, c: string) => `${repo}@sha256:${c.repeat(64)}`;

export function testConfig(overrides: Partial<KubernetesConfig> = {}): KubernetesConfig {
  return {
    namespace: NS,
    inCluster: false,
    runnerId: "runner-a",
    tracer: "sidecar",
    images: { tracer: pin("ghcr.io/vexxy/tracer", "a"), prober: pin("ghcr.io/vexxy/prober", "b"), zap: pin("ghcr.io/zaproxy/zaproxy", "c") },
    runtimeClassName: "gvisor",
    nonRoot: "preferred",
    resources: {
      cpuRequest: "250m",
      memoryRequest: "256Mi",
      ephemeralStorage: "1Gi",
      helperCpu: "500m",
      helperMemory: "512Mi",
      zapCpu: "1",
      zapMemory: "2Gi",
    },
    scratchPaths: ["/tmp", "/var/run"],
    zapTimeoutSeconds: 600,
    ttlAfterFinishedSeconds: 600,
    terminationGraceSeconds: 5,
    unschedulableGraceSeconds: 0,
    kubescapeProfileWaitSeconds: 5,
    sweepIntervalSeconds: 0,
    watchRestartMs: 20,
    allowedRegistries: new Set(),
    ...overrides,
  };
}

export function spec(jobId: string, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    jobId,
    imageRef: "docker.io/library/nginx:1.14.2",
    imageDigest: `sha256:${"f".repeat(64)}`,
    ports: [80],
    environment: { GREETING: "hello" },
    timeoutSeconds: 900,
    codeCoverage: false,
    ...overrides,
  };
}

export const LIMITS: SandboxLimits = { memoryBytes: 512 * 1024 * 1024, cpus: 1, pids: 256 };

/** Every API call the driver made in this suite (driver.test.ts runs the scenarios, then the RBAC check). */
export const ALL_CALLS: ApiCall[] = [];

export async function startFake(): Promise<FakeKube> {
  const fake = new FakeKube();
  await fake.start();
  return fake;
}

export async function stopFake(fake: FakeKube): Promise<void> {
  ALL_CALLS.push(...fake.calls);
  await fake.stop();
}

/** Stands in for DNS: every registry name is a public address, except those a test maps elsewhere. */
export function fakeLookup(names: Record<string, string[]> = {}) {
  return async (host: string) => names[host] ?? ["140.82.112.3"];
}

export function driverFor(fake: FakeKube, overrides: Partial<KubernetesConfig> = {}, lookup = fakeLookup()): KubernetesDriver {
  const cfg = testConfig({ kubeconfigPath: fake.kubeconfigPath, ...overrides });
  return new KubernetesDriver(cfg, makeKubeClients(kubeConfigFor(cfg)), undefined, lookup);
}

export const role = (p: Obj) => p.metadata.labels?.[LABEL.role];

/** Builds the sidecar's hand-over block with the same tools the sidecar uses (tar, gzip, base64, sha256sum). */
export function sidecarDump(files: Record<string, string>, meta: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "trace-"));
  const out = join(dir, "out");
  execFileSync("mkdir", ["-p", out]);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(out, name), text);
  writeFileSync(join(out, "meta"), Object.entries(meta).map(([k, v]) => `${k}=${v}\n`).join(""));
  return execFileSync(
    "sh",
    [
      "-c",
      `tar -czf "${dir}/trace.tgz" -C "${out}" . && sum=$(sha256sum "${dir}/trace.tgz" | cut -d' ' -f1) && echo "VEXXY-TRACE-BEGIN v1" && base64 "${dir}/trace.tgz" && echo "VEXXY-TRACE-END sha256=$sum"`,
    ],
    { encoding: "utf8" },
  );
}

export const STRACE_NGINX = [
  `execve("/usr/sbin/nginx", ["nginx", "-g", "daemon off;"], 0x7ffd /* 9 vars */) = 0`,
  `openat(AT_FDCWD</>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>`,
  `openat(AT_FDCWD</>, "/lib/x86_64-linux-gnu/libpcre.so.3", O_RDONLY|O_CLOEXEC) = 3</lib/x86_64-linux-gnu/libpcre.so.3.13.3>`,
  `mmap(NULL, 468488, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_DENYWRITE, 3</lib/x86_64-linux-gnu/libpcre.so.3.13.3>, 0) = 0x7f2b5c1a1000`,
  `bind(6<socket:[12345]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("0.0.0.0")}, 16) = 0`,
  `+++ exited with 0 +++`,
].join("\n");

/** Waits for the fake to satisfy a condition by the events it records, not by sleeping a fixed time. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Pure parts of the podman driver: command lines, the ZAP plan, coverage detection and reading. No podman needed. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { envFileContent, proberRunArgs, targetCreateArgs, zapRunArgs } from "../../src/drivers/podman/container-args.js";
import { isNodeEntrypoint, readV8Coverage } from "../../src/drivers/podman/coverage.js";
import { matchIndex } from "../../src/drivers/podman/image-sources.js";
import { normalizeRef, repository } from "../../src/drivers/podman/image-local.js";
import { zapPlan } from "../../src/drivers/podman/zap.js";

const spec = {
  jobId: "job-1",
  imageRef: "docker.io/library/app:1",
  imageDigest: "sha256:" + "1".repeat(64),
  ports: [8080, 9090],
  environment: { A: "1" },
  timeoutSeconds: 300,
  codeCoverage: false,
};
const limits = { memoryBytes: 512 * 1024 * 1024, cpus: 1.5, pids: 100 };

/** The value following `flag` each time it occurs. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

describe("target container command line", () => {
  const args = targetCreateArgs(spec, limits, { imageId: "abc123", readOnly: true, envFile: "/w/env", inlineEnv: { B: "x\ny" }, runnerId: "r1" });

  it("isolates: no network, no capabilities, no privilege gain, read-only with tmpfs, limits", () => {
    expect(values(args, "--network")).toEqual(["none"]);
    expect(args).toContain("--cap-drop=all");
    expect(values(args, "--security-opt")).toEqual(["no-new-privileges"]);
    expect(args).toContain("--read-only");
    expect(values(args, "--tmpfs").map((t) => t.split(":")[0])).toEqual(["/tmp", "/var/tmp", "/run"]);
    expect(values(args, "--memory")).toEqual([String(limits.memoryBytes)]);
    expect(values(args, "--memory-swap")).toEqual([String(limits.memoryBytes)]);
    expect(values(args, "--cpus")).toEqual(["1.5"]);
    expect(values(args, "--pids-limit")).toEqual(["100"]);
    expect(values(args, "--pull")).toEqual(["never"]);
    expect(args.at(-1)).toBe("abc123");
  });

  it("labels for cleanup and keeps env values out of argv except those an env file cannot hold", () => {
    expect(values(args, "--label")).toEqual(["vexxy.managed=true", "vexxy.job-id=job-1", "vexxy.role=target", "vexxy.runner=r1"]);
    expect(values(args, "--env-file")).toEqual(["/w/env"]);
    expect(values(args, "--env")).toEqual(["B=x\ny"]);
    expect(envFileContent({ A: "1", B: "two words", C: "multi\nline" })).toEqual({ text: "A=1\nB=two words\n", inline: { C: "multi\nline" } });
  });

  it("writable root only when asked, coverage mount only when collected", () => {
    const rw = targetCreateArgs(spec, limits, { imageId: "x", readOnly: false, envFile: "/e", inlineEnv: {}, coverageDir: "/w/cov" });
    expect(rw).not.toContain("--read-only");
    expect(values(rw, "--volume")).toEqual(["/w/cov:/vexxy-coverage:rw"]);
    expect(values(rw, "--env")).toEqual(["NODE_V8_COVERAGE=/vexxy-coverage"]);
    expect(values(args, "--volume")).toEqual([]);
  });
});

describe("prober and ZAP command lines", () => {
  it("runs the script from stdin in the target's network namespace, hardened", () => {
    const args = proberRunArgs({ jobId: "job-1", targetName: "vexxy-job-1-target", proberImage: "p:1", name: "vexxy-job-1-prober-1" });
    expect(values(args, "--network")).toEqual(["container:vexxy-job-1-target"]);
    expect(args).toEqual(expect.arrayContaining(["--cap-drop=all", "--read-only", "-i", "--rm"]));
    expect(args.slice(-3)).toEqual(["p:1", "sh", "-s"]);
  });

  it("runs ZAP per job in the target's namespace with the job's work dir", () => {
    const args = zapRunArgs({ jobId: "job-1", targetName: "t", zapImage: "z:1", workDir: "/w/zap" });
    expect(values(args, "--network")).toEqual(["container:t"]);
    expect(values(args, "--volume")).toEqual(["/w/zap:/zap/wrk:rw"]);
    expect(values(args, "--name")).toEqual(["vexxy-job-1-zap"]);
    expect(args.slice(-4)).toEqual(["zap.sh", "-cmd", "-autorun", "/zap/wrk/plan.yaml"]);
  });
});

describe("ZAP automation plan", () => {
  it("targets every port on localhost, waits for passive scan and writes a traditional-json report", () => {
    const plan = zapPlan({ ports: [8080, 9090], maxMinutes: 2, activeScan: false }) as {
      env: { contexts: { urls: string[]; includePaths: string[] }[] };
      jobs: { type: string; parameters: Record<string, unknown> }[];
    };
    expect(plan.env.contexts[0]!.urls).toEqual(["http://localhost:8080/", "http://localhost:9090/"]);
    expect(plan.env.contexts[0]!.includePaths[0]).toBe("http://localhost:8080/.*");
    expect(plan.jobs.map((j) => j.type)).toEqual(["spider", "passiveScan-wait", "report"]);
    expect(plan.jobs.at(-1)!.parameters).toEqual({ template: "traditional-json", reportDir: "/zap/wrk", reportFile: "zap-report" });
    expect(plan.jobs[0]!.parameters.maxDuration).toBe(2);
  });

  it("adds the active scan only when enabled", () => {
    const plan = zapPlan({ ports: [80], maxMinutes: 1, activeScan: true }) as { jobs: { type: string }[] };
    expect(plan.jobs.map((j) => j.type)).toEqual(["spider", "passiveScan-wait", "activeScan", "report"]);
  });
});

describe("code coverage", () => {
  it("recognises Node entrypoints only", () => {
    expect(isNodeEntrypoint(null, ["node", "server.js"])).toBe(true);
    expect(isNodeEntrypoint(["/usr/local/bin/node"], ["app.js"])).toBe(true);
    expect(isNodeEntrypoint(["docker-entrypoint.sh"], ["node", "app.js"])).toBe(true);
    expect(isNodeEntrypoint(null, ["/usr/bin/python3.11", "/srv/app.py"])).toBe(false);
    expect(isNodeEntrypoint(null, ["/srv/node_exporter"])).toBe(false);
  });

  it("reads real NODE_V8_COVERAGE output as per-file covered fractions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vexxy-cov-"));
    try {
      const script = join(dir, "app.js");
      writeFileSync(script, "function used() { return 1 }\nfunction unused() { let x = 0; for (let i = 0; i < 10; i++) x += i; return x }\nused();\n");
      execFileSync(process.execPath, [script], { env: { ...process.env, NODE_V8_COVERAGE: join(dir, "cov") } });
      const cov = await readV8Coverage(join(dir, "cov"));
      expect(cov.supported).toBe(true);
      const fraction = cov.files?.[script];
      expect(fraction).toBeGreaterThan(0.2);
      expect(fraction).toBeLessThan(0.9); // unused() never ran
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("image references and OCI indexes", () => {
  it("normalises references and finds manifests by digest", () => {
    expect(normalizeRef("busybox")).toBe("docker.io/library/busybox:latest");
    expect(normalizeRef("localhost/vexxy-test/target")).toBe("localhost/vexxy-test/target:latest");
    expect(normalizeRef("registry:5000/a/b@sha256:00")).toBe("registry:5000/a/b:latest");
    expect(repository("registry:5000/a/b:1.2")).toBe("registry:5000/a/b");
    expect(repository("ghcr.io/x/y@sha256:ab")).toBe("ghcr.io/x/y");
    const index = {
      manifests: [
        { digest: "sha256:a", annotations: { "org.opencontainers.image.ref.name": "target" } },
        { digest: "sha256:b" },
      ],
    };
    expect(matchIndex(index, "sha256:a")).toBe("target");
    expect(matchIndex(index, "sha256:b")).toBeNull(); // unnamed among several: not addressable
    expect(matchIndex({ manifests: [{ digest: "sha256:c" }] }, "sha256:c")).toBe("");
    expect(matchIndex(index, "sha256:z")).toBeNull();
  });
});

/**
 * Failure at each phase → one fail callback with the policy's error code, fault and sandbox_ran, and
 * the sandbox (if one was started) destroyed. See src/pipeline/failure.ts for the policy.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FailCallbackSchema } from "@vexxy/contract";
import { SandboxError } from "../../src/drivers/types.js";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { defaultStop, type FakeBehaviour } from "../support/fake-driver.js";
import { fakeAnalysis } from "../support/fake-analysis.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

interface Case {
  name: string;
  behaviour: FakeBehaviour;
  analysisThrows?: boolean;
  expected: { error_code: string; fault: "service" | "workload"; sandbox_ran: boolean };
  message: string;
}

const cases: Case[] = [
  {
    name: "image cannot be pulled",
    behaviour: { prepareImage: async () => { throw new SandboxError("image_unavailable", "manifest unknown"); } },
    expected: { error_code: "image_unavailable", fault: "workload", sandbox_ran: false },
    message: "manifest unknown",
  },
  {
    name: "pulled image has another digest",
    behaviour: { prepareImage: async () => { throw new SandboxError("digest_mismatch", "got sha256:00"); } },
    expected: { error_code: "digest_mismatch", fault: "workload", sandbox_ran: false },
    message: "got sha256:00",
  },
  {
    name: "platform cannot start the sandbox",
    behaviour: { start: async () => { throw new SandboxError("sandbox_start_failed", "runtime unavailable"); } },
    expected: { error_code: "sandbox_start_failed", fault: "service", sandbox_ran: false },
    message: "runtime unavailable",
  },
  {
    name: "the driver breaks before the sandbox runs (a plain Error)",
    behaviour: { start: async () => { throw new Error("podman socket gone"); } },
    expected: { error_code: "internal", fault: "service", sandbox_ran: false },
    message: "podman socket gone",
  },
  {
    name: "the host lacks what sandboxes need (the driver's readiness check)",
    behaviour: { whenReady: async () => { throw new SandboxError("sandbox_unavailable", "sandbox driver: podman is not installed; fix: apt-get install -y podman runc slirp4netns"); } },
    expected: { error_code: "sandbox_unavailable", fault: "service", sandbox_ran: false },
    message: "podman is not installed; fix: apt-get install -y podman",
  },
  {
    name: "a host command is missing when the driver spawns it (spawn podman ENOENT)",
    behaviour: { prepareImage: async () => { throw Object.assign(new Error("spawn podman ENOENT"), { code: "ENOENT", syscall: "spawn podman", path: "podman" }); } },
    expected: { error_code: "sandbox_unavailable", fault: "service", sandbox_ran: false },
    message: "this runner's host has no podman",
  },
  {
    name: "the app never becomes healthy",
    behaviour: { waitHealthy: async () => ({ healthy: false, reason: "port 80 refused connections" }) },
    expected: { error_code: "unhealthy", fault: "workload", sandbox_ran: true },
    message: "port 80 refused connections",
  },
  {
    name: "the test script overruns test_timeout",
    behaviour: { runScript: async () => ({ exitCode: 137, stdout: "", stderr: "", timedOut: true, durationMs: 60_000 }) },
    expected: { error_code: "timeout", fault: "workload", sandbox_ran: true },
    message: "test_timeout",
  },
  {
    name: "the driver's sandbox deadline fires during the script",
    behaviour: { runScript: async () => { throw new SandboxError("timeout", "sandbox lifetime exceeded"); } },
    expected: { error_code: "timeout", fault: "workload", sandbox_ran: true },
    message: "sandbox lifetime exceeded",
  },
  {
    name: "the app is OOM-killed",
    behaviour: { stop: async () => ({ ...defaultStop(), exitCode: 137, oomKilled: true }) },
    expected: { error_code: "oom_killed", fault: "workload", sandbox_ran: true },
    message: "memory limit",
  },
  {
    name: "evidence collection breaks inside the driver",
    behaviour: { stop: async () => { throw new SandboxError("internal", "strace log unreadable"); } },
    expected: { error_code: "internal", fault: "service", sandbox_ran: true },
    message: "strace log unreadable",
  },
  {
    name: "the analysis step throws",
    behaviour: {},
    analysisThrows: true,
    expected: { error_code: "internal", fault: "service", sandbox_ran: true },
    message: "engine exploded",
  },
];

describe("failure at each phase", () => {
  for (const c of cases) {
    it(`${c.name} → ${c.expected.error_code} (${c.expected.fault}, sandbox_ran=${c.expected.sandbox_ran})`, async () => {
      const analysis = c.analysisThrows
        ? fakeAnalysis({ computeReachability: async () => { throw new Error("engine exploded"); } })
        : fakeAnalysis();
      h = await startHarness({ behaviour: c.behaviour, analysis });
      const job = makeJob();
      expect((await dispatch(h.url, SECRET, job)).status).toBe(202);
      const final = await h.worker.final(job.job_id);
      expect(final.kind).toBe("fail");
      const fail = FailCallbackSchema.parse(final.body);
      expect(fail).toMatchObject(c.expected);
      expect(fail.error_message).toContain(c.message);
      if (c.expected.sandbox_ran) {
        expect(fail.sandbox_seconds).toBeGreaterThan(0);
        expect(h.driver.sandboxes).toHaveLength(1);
        expect(h.driver.sandboxes[0]!.destroyed).toBe(1);
      } else {
        expect(fail.sandbox_seconds).toBe(0);
        expect(h.driver.sandboxes).toHaveLength(0);
      }
      expect(h.worker.of(job.job_id, "complete")).toHaveLength(0);
      expect(h.worker.of(job.job_id, "fail")).toHaveLength(1);
      await waitUntil(() => h.runner.jobs.running === 0);
      const metrics = await h.runner.metrics.registry.metrics();
      expect(metrics).toContain(`vexxy_runner_sandbox_failures_total{code="${c.expected.error_code}"} 1`);
    });
  }

  it("a destroy that throws does not change the outcome or block the callback", async () => {
    h = await startHarness({ behaviour: { destroy: async () => { throw new Error("container already gone"); } } });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    expect((await h.worker.final(job.job_id)).kind).toBe("complete");
    expect(h.driver.sandboxes[0]!.destroyed).toBe(1);
  });

  it("a non-zero script exit is not a failure: the job completes, marked not exercised", async () => {
    h = await startHarness({ behaviour: { runScript: async () => ({ exitCode: 3, stdout: "", stderr: "assert failed", timedOut: false, durationMs: 5 }) } });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    const final = await h.worker.final(job.job_id);
    expect(final.kind).toBe("complete");
    expect((final.body as { reachability_results: unknown }).reachability_results).toMatchObject({ healthy: true, exercised: false });
  });

  it("the Worker rejecting the complete payload (400) turns into an internal fail callback", async () => {
    h = await startHarness();
    h.worker.respond = (call) => (call.kind === "complete" ? { status: 400, body: { error: "invalid_request" } } : undefined);
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    const fail = await h.worker.waitFor((c) => c.jobId === job.job_id && c.kind === "fail");
    expect(FailCallbackSchema.parse(fail.body)).toMatchObject({ error_code: "internal", fault: "service", sandbox_ran: true });
    // The 400 was not retried.
    expect(h.worker.of(job.job_id, "complete")).toHaveLength(1);
  });
});

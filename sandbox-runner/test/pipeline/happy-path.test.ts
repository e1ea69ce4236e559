/** A job that runs to the end: phases and percentages in order, heartbeats, and an honest result. */
import { afterEach, describe, expect, it } from "vitest";
import { CompleteCallbackSchema, ProgressCallbackSchema, type CompleteCallback, type ProgressCallback } from "@vexxy/contract";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { delay } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const zapReport = {
  site: [
    {
      alerts: [
        { pluginid: "10038", alert: "CSP header not set", riskcode: "2" },
        { pluginid: "10020", alert: "Anti-clickjacking header", riskcode: "2" },
        { pluginid: "10036", alert: "Server leaks version", riskcode: "1" },
      ],
    },
  ],
};

function progressOf(jobId: string): ProgressCallback[] {
  return h.worker.of(jobId, "progress").map((c) => ProgressCallbackSchema.parse(c.body));
}

describe("a job that completes", () => {
  it("reports every phase once, in order, with rising percentages, then a valid complete callback", async () => {
    h = await startHarness({
      behaviour: { securityScan: async () => ({ status: "completed", report: zapReport }) },
    });
    const job = makeJob({ config: { enable_fuzzing: true }, inputs: { sbom: true, vulnerabilities: false } });
    h.worker.inputs.set(job.job_id, { sbom: { bomFormat: "CycloneDX", components: [] } });
    expect((await dispatch(h.url, SECRET, job)).json).toEqual({ accepted: true });
    const final = await h.worker.final(job.job_id);
    expect(final.kind).toBe("complete");
    expect(h.worker.refused).toEqual([]);

    const progress = progressOf(job.job_id);
    const phases = progress.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual([
      "pulling_image",
      "starting_sandbox",
      "waiting_for_health",
      "running_test_script",
      "security_scan",
      "collecting_evidence",
      "computing_reachability",
      "writing_vex",
    ]);
    const percents = progress.map((p) => p.progress_percent);
    expect(percents[0]).toBe(0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(new Set(percents).size).toBe(8);
    expect(Math.max(...percents)).toBeLessThan(100);

    // sandbox_started_at appears once the sandbox exists, never before.
    const firstWithStart = progress.findIndex((p) => p.sandbox_started_at);
    expect(progress.slice(0, firstWithStart).map((p) => p.phase)).toEqual(["pulling_image", "starting_sandbox"]);
    expect(progress[firstWithStart]!.sandbox_started_at).toBe(h.driver.sandboxes[0]!.startedAt.toISOString());

    const complete = CompleteCallbackSchema.parse(final.body);
    expect(complete.features_ran).toEqual({ fuzzing: true, profiling: true, code_coverage: false });
    expect(complete.security_findings).toMatchObject({ status: "completed", total_alerts: 3, medium_risk: 2, low_risk: 1, high_risk: 0 });
    expect(complete.reachability_results).toMatchObject({ schema: "test.reachability", opened: 4, healthy: true, exercised: true, had_sbom: true });
    expect(complete.vex_document!["@id"]).toBe(`https://example.test/vex/${job.job_id}`);
    expect(h.worker.of(job.job_id, "inputs/sbom")).toHaveLength(1);
    expect(h.worker.of(job.job_id, "inputs/vulnerabilities")).toHaveLength(0);

    // Nothing after the final callback, and the sandbox is gone.
    expect(h.worker.calls.filter((c) => c.jobId === job.job_id).at(-1)).toBe(final);
    expect(h.driver.sandboxes[0]!.destroyed).toBe(1);
    expect(h.driver.calls).toEqual(["whenReady", "prepareImage", "start", "waitHealthy", "runScript", "securityScan", "stop", "destroy"]);
  });

  it("fetches the job's inputs while the application runs, and removes the sandbox while the analysis runs (issue #22)", async () => {
    let jobId = "";
    const seen = { inputsDuringScript: false, analysisDuringDestroy: false };
    h = await startHarness({
      behaviour: {
        // The script does not finish until the SBOM has been fetched: a pipeline that fetched it only
        // after the sandbox stopped would never see it here.
        runScript: async () => {
          await waitUntil(() => h.worker.of(jobId, "inputs/sbom").length === 1).then(
            () => (seen.inputsDuringScript = true),
            () => {},
          );
          return { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 5 };
        },
        // Removing the sandbox takes until the analysis has begun.
        destroy: async () => {
          await waitUntil(() => progressOf(jobId).some((p) => p.phase === "computing_reachability")).then(
            () => (seen.analysisDuringDestroy = true),
            () => {},
          );
        },
      },
    });
    const job = makeJob({ inputs: { sbom: true, vulnerabilities: false } });
    jobId = job.job_id;
    h.worker.inputs.set(job.job_id, { sbom: { bomFormat: "CycloneDX", components: [] } });
    await dispatch(h.url, SECRET, job);
    expect((await h.worker.final(job.job_id)).kind).toBe("complete");
    expect(seen).toEqual({ inputsDuringScript: true, analysisDuringDestroy: true });
    // Still destroyed exactly once before the job ended.
    await waitUntil(() => h.driver.sandboxes[0]!.destroyed === 1);
  });

  it("builds the execution profile from the trace, bounded and de-duplicated", async () => {
    h = await startHarness();
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    const complete = CompleteCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    const p = complete.execution_profile;
    expect(p).toMatchObject({
      trace_source: "synthetic",
      from_first_exec: true,
      complete: true,
      files_accessed_count: 2,
      files_accessed: { items: ["/etc/nginx/nginx.conf", "/lib/libssl.so.3"], truncated: false, total: 2 },
      executables: { items: ["/usr/sbin/nginx"], truncated: false, total: 1 },
      loaded_libraries: { items: ["/lib/libssl.so.3"], truncated: false, total: 1 },
      syscall_counts: { openat: 4, execve: 2, mmap: 2, bind: 1 },
      test_script: { exit_code: 0, timed_out: false, stdout: "ok\n" },
      probes: null,
      coverage: { supported: false, reason: "code coverage was not requested" },
    });
    expect((p.connections as { items: unknown[] }).items).toEqual([{ syscall: "bind", family: "inet", address: "0.0.0.0", port: 80, ok: true }]);
  });

  it("does not claim features that did not run: ZAP skipped → no fuzzing; profiling off → no trace lists; coverage unsupported", async () => {
    h = await startHarness();
    const job = makeJob({ config: { enable_fuzzing: true, enable_profiling: false, enable_code_coverage: true } });
    await dispatch(h.url, SECRET, job);
    const complete = CompleteCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    expect(complete.features_ran).toEqual({ fuzzing: false, profiling: false, code_coverage: false });
    expect(complete.security_findings).toMatchObject({ status: "skipped", reason: "no ZAP image configured", total_alerts: 0 });
    expect(complete.execution_profile.files_accessed).toBeUndefined();
    expect(complete.execution_profile.syscall_counts).toBeUndefined();
    expect(complete.execution_profile.files_accessed_count).toBe(2);
    expect(complete.execution_profile.coverage).toEqual({ supported: false, reason: "not a Node image" });
  });

  it("reports code coverage only when the runtime supported it, and a failed or unreadable scan as failed", async () => {
    h = await startHarness({
      behaviour: {
        securityScan: async () => ({ status: "completed", report: { not: "a zap report" } }),
        stop: async () => ({
          trace: (await import("../support/fake-driver.js")).sampleTrace(),
          coverage: { supported: true, files: { "/app/index.js": 0.5 } },
          exitCode: null,
          oomKilled: false,
        }),
      },
    });
    const job = makeJob({ config: { enable_fuzzing: true, enable_code_coverage: true } });
    await dispatch(h.url, SECRET, job);
    const complete = CompleteCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    expect(complete.features_ran).toEqual({ fuzzing: false, profiling: true, code_coverage: true });
    expect(complete.security_findings.status).toBe("failed");
    expect(complete.security_findings.reason).toContain("unreadable ZAP report");
    expect(complete.execution_profile.coverage).toEqual({ supported: true, files: { "/app/index.js": 0.5 } });
  });

  it("skips the security_scan phase entirely without fuzzing, probes when there is no script", async () => {
    h = await startHarness({ behaviour: { probe: async () => [{ port: 80, answered: false, detail: "connection refused" }] } });
    const job = makeJob({ config: { test_script: null } });
    await dispatch(h.url, SECRET, job);
    const final = await h.worker.final(job.job_id);
    const phases = new Set(progressOf(job.job_id).map((p) => p.phase));
    expect(phases.has("security_scan")).toBe(false);
    expect(h.driver.calls).not.toContain("securityScan");
    expect(h.driver.calls).toContain("probe");
    const complete = final.body as CompleteCallback;
    // No probe answered: the run was not exercised, and the engine is told so.
    expect(complete.reachability_results).toMatchObject({ exercised: false });
    expect(complete.execution_profile.probes).toEqual([{ port: 80, answered: false, detail: "connection refused" }]);
  });

  it("bills only sandbox run time: the pull is not counted", async () => {
    h = await startHarness({
      behaviour: {
        prepareImage: (_s, signal) => delay(1_000, signal),
        runScript: async (_s, _t, signal) => (await delay(100, signal), { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 100 }),
      },
    });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    const complete = CompleteCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    expect(complete.sandbox_seconds).toBeGreaterThanOrEqual(0.09);
    expect(complete.sandbox_seconds).toBeLessThan(1);
  });

  it("sends heartbeats for the current phase while a phase lasts, with percentages inside the phase's share", async () => {
    h = await startHarness({
      settings: { heartbeatMs: 40 },
      behaviour: {
        runScript: async (_s, _t, signal) => (await delay(400, signal), { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 400 }),
      },
    });
    const job = makeJob({ config: { test_timeout: 60 } });
    await dispatch(h.url, SECRET, job);
    await h.worker.final(job.job_id);
    const progress = progressOf(job.job_id);
    const inScript = progress.filter((p) => p.phase === "running_test_script");
    expect(inScript.length).toBeGreaterThanOrEqual(4);
    const next = progress.find((p) => p.phase === "collecting_evidence")!;
    for (const p of inScript) {
      expect(p.progress_percent).toBeGreaterThanOrEqual(inScript[0]!.progress_percent);
      expect(p.progress_percent).toBeLessThan(next.progress_percent);
      expect(p.sandbox_started_at).toBeDefined();
    }
  });

  it("passes the configured limits and a digest-pinned spec to the driver", async () => {
    h = await startHarness();
    const job = makeJob({ config: { ports: [8080, 8443], environment: { A: "1" }, enable_code_coverage: true } });
    await dispatch(h.url, SECRET, job);
    await h.worker.final(job.job_id);
    expect(h.driver.limits).toEqual({ memoryBytes: 512 * 1024 * 1024, cpus: 1, pids: 256 });
    expect(h.driver.specs[0]).toMatchObject({
      jobId: job.job_id,
      imageDigest: job.image_digest,
      ports: [8080, 8443],
      environment: { A: "1" },
      codeCoverage: true,
    });
    // Health budget + script timeout + slack: the driver's own kill switch covers the whole run.
    expect(h.driver.specs[0]!.timeoutSeconds).toBeGreaterThanOrEqual(job.config.test_timeout + 5);
  });
});

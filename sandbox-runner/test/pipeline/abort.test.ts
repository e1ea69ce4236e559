/** Ending a job early: cancel, the Worker declaring it finished, and graceful shutdown. */
import { afterEach, describe, expect, it } from "vitest";
import { FailCallbackSchema } from "@vexxy/contract";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { delay, gate } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { cancel, dispatch, send } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("cancel", () => {
  it("stops a job mid-script: sandbox destroyed, fail 'cancelled' with the time it ran, nothing after", async () => {
    const inScript = gate();
    h = await startHarness({
      behaviour: {
        runScript: async (_s, _t, signal) => {
          await inScript.wait(signal);
          throw new Error("unreachable: the gate is never opened");
        },
      },
    });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    await inScript.entered;
    const res = await cancel(h.url, SECRET, job.job_id);
    expect(res.status).toBe(202);
    const final = await h.worker.final(job.job_id);
    const fail = FailCallbackSchema.parse(final.body);
    expect(fail).toMatchObject({ error_code: "cancelled", fault: "workload", sandbox_ran: true });
    expect(fail.sandbox_seconds).toBeGreaterThan(0);
    expect(h.driver.sandboxes[0]!.destroyed).toBe(1);
    expect(h.driver.calls).not.toContain("stop");
    await waitUntil(() => h.runner.jobs.running === 0);
    expect(h.worker.of(job.job_id, "complete")).toHaveLength(0);
    expect(await h.runner.metrics.registry.metrics()).toContain('vexxy_runner_jobs_total{state="cancelled"} 1');
  });

  it("stops a job even when the driver ignores the abort signal", async () => {
    // A pull that never settles and never looks at its signal.
    h = await startHarness({ behaviour: { prepareImage: () => new Promise<void>(() => {}) } });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    await waitUntil(() => h.driver.calls.includes("prepareImage"));
    await cancel(h.url, SECRET, job.job_id);
    const fail = FailCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    expect(fail).toMatchObject({ error_code: "cancelled", sandbox_ran: false, sandbox_seconds: 0 });
  });

  it("destroys a sandbox whose start finishes only after the cancel", async () => {
    let finishStart!: () => void;
    h = await startHarness({ behaviour: { start: () => new Promise<void>((r) => (finishStart = r)) } });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    await waitUntil(() => h.driver.calls.includes("start"));
    await cancel(h.url, SECRET, job.job_id);
    expect(FailCallbackSchema.parse((await h.worker.final(job.job_id)).body).error_code).toBe("cancelled");
    finishStart();
    await waitUntil(() => h.driver.sandboxes.length === 1 && h.driver.sandboxes[0]!.destroyed === 1);
  });
});

describe("the Worker has finished the job", () => {
  it("a 409 on progress aborts the job: sandbox destroyed, no complete or fail callback", async () => {
    h = await startHarness({
      settings: { heartbeatMs: 30 },
      behaviour: { runScript: async (_s, _t, signal) => (await delay(5_000, signal), { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 0 }) },
    });
    const job = makeJob();
    h.worker.respond = (call) =>
      call.kind === "progress" && (call.body as { phase: string }).phase === "running_test_script" ? { status: 409, body: { error: "conflict" } } : undefined;
    const started = Date.now();
    await dispatch(h.url, SECRET, job);
    await waitUntil(() => h.driver.sandboxes[0]?.destroyed === 1);
    await waitUntil(() => h.runner.jobs.running === 0);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(h.worker.of(job.job_id, "complete")).toHaveLength(0);
    expect(h.worker.of(job.job_id, "fail")).toHaveLength(0);
    // No progress is sent once the Worker said the job is gone, and 409 is not retried.
    expect(h.worker.of(job.job_id, "progress").filter((c) => (c.body as { phase: string }).phase === "running_test_script")).toHaveLength(1);
    expect(await h.runner.metrics.registry.metrics()).toContain('vexxy_runner_jobs_total{state="abandoned"} 1');
  });
});

describe("graceful shutdown", () => {
  it("refuses new jobs, lets a quick job finish, and reports a slow one as runner_shutdown", async () => {
    h = await startHarness({
      behaviour: {
        runScript: async (script, _t, signal) => {
          await delay(script === "slow" ? 10_000 : 150, signal);
          return { exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 0 };
        },
      },
    });
    const quick = makeJob({ config: { test_script: "quick" } });
    const slow = makeJob({ config: { test_script: "slow" } });
    await dispatch(h.url, SECRET, quick);
    await dispatch(h.url, SECRET, slow);
    await waitUntil(() => h.driver.calls.filter((c) => c === "runScript").length === 2);

    const stopping = h.runner.stop(500);
    const refused = await dispatch(h.url, SECRET, makeJob());
    expect(refused.status).toBe(503);
    expect(refused.json.error).toBe("shutting_down");
    expect(refused.headers.get("retry-after")).toBeTruthy();
    expect((await send(h.url, "GET", "/healthz", "")).json.status).toBe("shutting_down");

    await stopping;
    expect((await h.worker.final(quick.job_id, 0)).kind).toBe("complete");
    const slowFail = FailCallbackSchema.parse((await h.worker.final(slow.job_id, 0)).body);
    expect(slowFail).toMatchObject({ error_code: "runner_shutdown", fault: "service", sandbox_ran: true });
    expect(h.driver.sandboxes.every((s) => s.destroyed === 1)).toBe(true);
    expect(h.runner.jobs.running).toBe(0);
  });
});

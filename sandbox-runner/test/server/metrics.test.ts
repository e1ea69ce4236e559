/** GET /metrics exposes the job, phase, failure and trace counters after jobs ran. */
import { afterEach, describe, expect, it } from "vitest";
import { SandboxError } from "../../src/drivers/types.js";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("GET /metrics", () => {
  it("counts finished jobs by state, phase durations, failures by code and trace events by kind", async () => {
    let pulls = 0;
    h = await startHarness({
      behaviour: {
        prepareImage: async () => {
          if (++pulls === 2) throw new SandboxError("image_unavailable", "not found");
        },
      },
    });
    const ok = makeJob();
    const bad = makeJob();
    await dispatch(h.url, SECRET, ok);
    await h.worker.final(ok.job_id);
    await dispatch(h.url, SECRET, bad);
    await h.worker.final(bad.job_id);
    await waitUntil(() => h.runner.jobs.running === 0);

    const res = await fetch(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('vexxy_runner_jobs_total{state="completed"} 1');
    expect(text).toContain('vexxy_runner_jobs_total{state="failed"} 1');
    expect(text).toContain("vexxy_runner_jobs_running 0");
    expect(text).toContain('vexxy_runner_sandbox_failures_total{code="image_unavailable"} 1');
    expect(text).toContain('vexxy_runner_phase_duration_seconds_count{phase="pulling_image"} 2');
    expect(text).toContain('vexxy_runner_phase_duration_seconds_count{phase="writing_vex"} 1');
    // The sample trace has 2 execs, 4 opens, 2 mmaps, 1 connection.
    expect(text).toContain('vexxy_runner_trace_events_total{kind="exec"} 2');
    expect(text).toContain('vexxy_runner_trace_events_total{kind="open"} 4');
    expect(text).toContain('vexxy_runner_trace_events_total{kind="connection"} 1');
  });
});

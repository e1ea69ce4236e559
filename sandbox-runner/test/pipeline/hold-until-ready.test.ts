/**
 * A job the host is not ready for yet: a test-script job waits (queued at the Worker, its lease kept
 * alive) while the prober image is prepared, then runs; /healthz says whether analyses can run and why not.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FailCallbackSchema, ProgressCallbackSchema } from "@vexxy/contract";
import type { HostCheck } from "../../src/drivers/types.js";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { gate, SandboxError } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const phases = (jobId: string) => h.worker.of(jobId, "progress").map((c) => ProgressCallbackSchema.parse(c.body).phase);

describe("a job held until the host is ready", () => {
  it("a test-script job waits for the prober image, reporting waiting_for_prober_image, then runs to the end", async () => {
    const built = gate();
    h = await startHarness({
      behaviour: {
        whenReady: async (needs, signal, onHold) => {
          if (!needs.testScript) return;
          onHold();
          await built.wait(signal);
        },
      },
      settings: { heartbeatMs: 20 },
    });
    const job = makeJob({ config: { test_script: "curl -fsS http://localhost:80/" } });
    expect((await dispatch(h.url, SECRET, job)).status).toBe(202);
    await built.entered;
    // Held: the heartbeat repeats the holding phase and nothing of the run has started.
    await h.worker.waitFor((c) => c.jobId === job.job_id && c.kind === "progress");
    await h.worker.waitFor(() => phases(job.job_id).length >= 2);
    expect(new Set(phases(job.job_id))).toEqual(new Set(["waiting_for_prober_image"]));
    expect(h.driver.calls).not.toContain("prepareImage");
    expect(h.worker.of(job.job_id, "fail")).toHaveLength(0);

    built.open();
    expect((await h.worker.final(job.job_id)).kind).toBe("complete");
    const seen = phases(job.job_id);
    const firstRun = seen.indexOf("pulling_image");
    expect(firstRun).toBeGreaterThan(0);
    expect(seen.slice(firstRun)).not.toContain("waiting_for_prober_image");
  });

  it("a job without a test script does not wait for the prober image", async () => {
    const built = gate();
    h = await startHarness({
      behaviour: {
        whenReady: async (needs, signal, onHold) => {
          if (!needs.testScript) return;
          onHold();
          await built.wait(signal);
        },
      },
    });
    const job = makeJob({ config: { test_script: null } });
    await dispatch(h.url, SECRET, job);
    expect((await h.worker.final(job.job_id)).kind).toBe("complete");
    expect(phases(job.job_id)).not.toContain("waiting_for_prober_image");
  });

  it("a prober image that cannot be prepared fails the held job as sandbox_unavailable (service fault), naming it", async () => {
    h = await startHarness({
      behaviour: {
        whenReady: async (_needs, _signal, onHold) => {
          onHold();
          throw new SandboxError("sandbox_unavailable", "the prober image localhost/p:latest is missing; fix: apt-get install -y debootstrap");
        },
      },
    });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    const fail = FailCallbackSchema.parse((await h.worker.final(job.job_id)).body);
    expect(fail).toMatchObject({ error_code: "sandbox_unavailable", fault: "service", sandbox_ran: false, sandbox_seconds: 0 });
    expect(fail.error_message).toContain("localhost/p:latest is missing; fix: apt-get install -y debootstrap");
    expect(h.driver.calls).not.toContain("start");
  });
});

describe("GET /healthz", () => {
  const healthz = async () => (await fetch(`${h.url}/healthz`)).json() as Promise<Record<string, unknown>>;

  it("says analyses can run when every check is ok", async () => {
    h = await startHarness({ behaviour: { readiness: () => [{ name: "sandbox driver", status: "ok", detail: "podman" }] } });
    expect(await healthz()).toMatchObject({ status: "ok", analyses: { can_run: true, test_scripts: "ready", reasons: [] } });
  });

  it("says why analyses cannot run, with the command that fixes each missing piece", async () => {
    const checks: HostCheck[] = [
      { name: "sandbox driver", status: "missing", detail: "podman is not installed", fix: "apt-get install -y podman runc slirp4netns" },
      { name: "tracer", status: "ok", detail: "strace" },
      { name: "prober image", status: "preparing", detail: "building", onlyForTestScripts: true },
    ];
    h = await startHarness({ behaviour: { readiness: () => checks } });
    const body = await healthz();
    expect(body).toMatchObject({ status: "ok", analyses: { can_run: false, test_scripts: "unavailable" } });
    expect((body.analyses as { reasons: string[] }).reasons[0]).toBe("sandbox driver: podman is not installed (fix: apt-get install -y podman runc slirp4netns)");
    expect(body.checks).toEqual(checks);
  });

  it("says test scripts wait while the prober image is prepared", async () => {
    h = await startHarness({
      behaviour: { readiness: () => [{ name: "sandbox driver", status: "ok", detail: "podman" }, { name: "prober image", status: "preparing", detail: "building: debootstrap: retrieving", onlyForTestScripts: true }] },
    });
    expect(await healthz()).toMatchObject({ analyses: { can_run: true, test_scripts: "preparing" } });
  });
});

/** POST /v1/jobs admission: validation, size limit, capacity, idempotent re-dispatch; other routes. */
import { afterEach, describe, expect, it } from "vitest";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { gate } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { dispatch, send } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("POST /v1/jobs validation", () => {
  it("answers 400 with details for a body that is not a valid dispatch, and starts nothing", async () => {
    h = await startHarness();
    const job = makeJob({ image_digest: "sha256:short" as string });
    const res = await dispatch(h.url, SECRET, job);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid_request");
    expect(res.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "image_digest" })]));
    expect(h.driver.calls).toEqual([]);
  });

  it("answers 400 for a signed body that is not JSON", async () => {
    h = await startHarness();
    const res = await send(h.url, "POST", "/v1/jobs", "{not json", { secret: SECRET });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("not JSON");
  });

  it("answers 413 for a body over 1 MiB", async () => {
    h = await startHarness();
    const job = makeJob({ config: { environment: { BIG: "x".repeat(1024 * 1024) } } });
    const res = await dispatch(h.url, SECRET, job);
    expect(res.status).toBe(413);
    expect(res.json.error).toBe("payload_too_large");
    expect(h.driver.calls).toEqual([]);
  });
});

describe("POST /v1/jobs admission", () => {
  it("answers 503 with Retry-After when every slot is busy, and accepts again once one frees", async () => {
    const hold = gate();
    h = await startHarness({ maxConcurrent: 1, behaviour: { prepareImage: (_s, signal) => hold.wait(signal) } });
    const first = makeJob();
    expect((await dispatch(h.url, SECRET, first)).status).toBe(202);
    const second = makeJob();
    const busy = await dispatch(h.url, SECRET, second);
    expect(busy.status).toBe(503);
    expect(busy.json.error).toBe("at_capacity");
    expect(busy.headers.get("retry-after")).toBe("7");
    hold.open();
    await h.worker.final(first.job_id);
    await h.runner.jobs.settled(first.job_id);
    await waitUntil(() => h.runner.jobs.running === 0);
    expect((await dispatch(h.url, SECRET, second)).status).toBe(202);
    expect((await h.worker.final(second.job_id)).kind).toBe("complete");
  });

  it("answers 202 again for a re-dispatch of the same attempt without starting a second sandbox", async () => {
    const hold = gate();
    h = await startHarness({ behaviour: { waitHealthy: async (signal) => (await hold.wait(signal), { healthy: true }) } });
    const job = makeJob();
    expect((await dispatch(h.url, SECRET, job)).status).toBe(202);
    await hold.entered;
    const again = await dispatch(h.url, SECRET, job);
    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({ accepted: true, duplicate: true });
    hold.open();
    await h.worker.final(job.job_id);
    expect(h.driver.calls.filter((c) => c === "start")).toHaveLength(1);
    expect(h.driver.sandboxes).toHaveLength(1);
  });

  it("answers 409 for the same job id under another attempt while it runs, and after an attempt finished", async () => {
    const hold = gate();
    h = await startHarness({ behaviour: { prepareImage: (_s, signal) => hold.wait(signal) } });
    const job = makeJob();
    expect((await dispatch(h.url, SECRET, job)).status).toBe(202);
    const other = await dispatch(h.url, SECRET, { ...job, attempt: 2 });
    expect(other.status).toBe(409);
    expect(other.json.error).toBe("conflict");
    hold.open();
    await h.worker.final(job.job_id);
    await waitUntil(() => h.runner.jobs.running === 0);
    const late = await dispatch(h.url, SECRET, job);
    expect(late.status).toBe(409);
    expect(late.json.message).toContain("already finished");
    // A genuinely new attempt after the first finished is a new run.
    expect((await dispatch(h.url, SECRET, { ...job, attempt: 2 })).status).toBe(202);
  });
});

describe("other routes", () => {
  it("GET /healthz reports load and driver", async () => {
    const hold = gate();
    h = await startHarness({ maxConcurrent: 3, behaviour: { prepareImage: (_s, signal) => hold.wait(signal) } });
    const idle = await send(h.url, "GET", "/healthz", "");
    expect(idle.status).toBe(200);
    expect(idle.json).toEqual({ status: "ok", running: 0, queued: 0, capacity: 3, driver: "podman", analyses: { can_run: true, test_scripts: "ready", reasons: [] }, checks: [] });
    const job = makeJob();
    await dispatch(h.url, SECRET, job);
    expect((await send(h.url, "GET", "/healthz", "")).json.running).toBe(1);
    hold.open();
    await h.worker.final(job.job_id);
  });

  it("answers 404 and 405 with the JSON error envelope", async () => {
    h = await startHarness();
    const missing = await send(h.url, "GET", "/nope", "");
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error: "not_found", message: expect.any(String) });
    const wrong = await send(h.url, "GET", "/v1/jobs", "");
    expect(wrong.status).toBe(405);
    expect(wrong.json.error).toBe("method_not_allowed");
  });

  it("DELETE of an unknown job answers 404", async () => {
    h = await startHarness();
    const res = await send(h.url, "DELETE", `/v1/jobs/${makeJob().job_id}`, "", { secret: SECRET });
    expect(res.status).toBe(404);
  });
});

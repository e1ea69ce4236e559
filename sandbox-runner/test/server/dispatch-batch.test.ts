/** POST /v1/job-batches: each job handled as POST /v1/jobs would handle it alone, one result per job. */
import { afterEach, describe, expect, it } from "vitest";
import { DispatchBatchResultSchema } from "@vexxy/contract";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { gate } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { send } from "../support/signed-client.js";
import { waitUntil } from "../support/wait.js";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const batch = (jobs: unknown[], secret = SECRET) => send(h.url, "POST", "/v1/job-batches", JSON.stringify({ jobs }), { secret });

describe("POST /v1/job-batches", () => {
  it("accepts jobs while slots are free and answers busy for the rest, in order", async () => {
    const hold = gate();
    h = await startHarness({ maxConcurrent: 2, behaviour: { prepareImage: (_s, signal) => hold.wait(signal) } });
    const jobs = [makeJob(), makeJob(), makeJob()];
    const res = await batch(jobs);
    expect(res.status).toBe(200);
    const body = DispatchBatchResultSchema.parse(res.json);
    expect(body.results).toEqual([
      { job_id: jobs[0]!.job_id, outcome: "accepted" },
      { job_id: jobs[1]!.job_id, outcome: "accepted" },
      { job_id: jobs[2]!.job_id, outcome: "busy", message: "all 2 sandbox slots are busy" },
    ]);
    expect(body.retry_after_seconds).toBe(7);
    hold.open();
    for (const j of jobs.slice(0, 2)) expect((await h.worker.final(j.job_id)).kind).toBe("complete");
    await waitUntil(() => h.runner.jobs.running === 0);
    // The busy job is accepted once a slot frees; an attempt that already finished is not run again.
    const again = DispatchBatchResultSchema.parse((await batch([jobs[2], jobs[0]])).json);
    expect(again.results.map((r) => r.outcome)).toEqual(["accepted", "finished"]);
    expect((await h.worker.final(jobs[2]!.job_id)).kind).toBe("complete");
    expect(h.driver.sandboxes).toHaveLength(3);
  });

  it("with a local queue, holds jobs beyond the slots (keeping their leases alive) and starts each the moment a slot frees", async () => {
    const hold = gate();
    h = await startHarness({ maxConcurrent: 1, queueLimit: 2, behaviour: { prepareImage: (_s, signal) => hold.wait(signal) } });
    const jobs = [makeJob(), makeJob(), makeJob(), makeJob()];
    const body = DispatchBatchResultSchema.parse((await batch(jobs)).json);
    expect(body.results.map((r) => r.outcome)).toEqual(["accepted", "accepted", "accepted", "busy"]);
    expect(body.results[3]!.message).toBe("all 1 sandbox slots are busy and 2 jobs already wait for one");
    expect(h.runner.jobs.running).toBe(1);
    expect(h.runner.jobs.queued).toBe(2);
    // Each waiting job tells the Worker at once that it waits for a slot (and again every heartbeat).
    await waitUntil(() => jobs.slice(1, 3).every((j) => h.worker.calls.some((c) => c.jobId === j.job_id && c.kind === "progress" && (c.body as { phase: string }).phase === "waiting_for_slot")));
    // A waiting job is a duplicate when dispatched again, and leaves the queue when cancelled.
    expect(DispatchBatchResultSchema.parse((await batch([jobs[1]])).json).results[0]!.outcome).toBe("duplicate");
    expect(h.runner.jobs.cancel(jobs[2]!.job_id)).toBe(true);
    expect(h.runner.jobs.queued).toBe(1);
    hold.open();
    // Oldest first, one slot at a time: job 0, then job 1; the cancelled one never starts.
    expect((await h.worker.final(jobs[0]!.job_id)).kind).toBe("complete");
    expect((await h.worker.final(jobs[1]!.job_id)).kind).toBe("complete");
    await waitUntil(() => h.runner.jobs.running === 0);
    expect(h.runner.jobs.queued).toBe(0);
    expect(h.driver.sandboxes).toHaveLength(2);
  });

  it("answers a re-dispatch of a running attempt as a duplicate without a second sandbox", async () => {
    const hold = gate();
    h = await startHarness({ behaviour: { waitHealthy: async (signal) => (await hold.wait(signal), { healthy: true }) } });
    const job = makeJob();
    await batch([job]);
    await hold.entered;
    const res = DispatchBatchResultSchema.parse((await batch([job])).json);
    expect(res.results).toEqual([{ job_id: job.job_id, outcome: "duplicate" }]);
    hold.open();
    await h.worker.final(job.job_id);
    expect(h.driver.calls.filter((c) => c === "start")).toHaveLength(1);
  });

  it("refuses the whole batch with 400 when any job is invalid, and starts nothing", async () => {
    h = await startHarness();
    const res = await batch([makeJob(), makeJob({ image_digest: "sha256:short" as string })]);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid_request");
    expect(res.json.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: "jobs.1.image_digest" })]));
    expect(h.driver.calls).toEqual([]);
  });

  it("refuses an empty batch and one over 100 jobs", async () => {
    h = await startHarness();
    expect((await batch([])).status).toBe(400);
    expect((await batch(Array.from({ length: 101 }, () => makeJob()))).status).toBe(400);
    expect(h.driver.calls).toEqual([]);
  });

  it("refuses a batch signed with another secret, and starts nothing", async () => {
    h = await startHarness();
    const res = await batch([makeJob()], "another-secret-0123456789abcdef0123456789");
    expect(res.status).toBe(401);
    expect(h.driver.calls).toEqual([]);
  });
});

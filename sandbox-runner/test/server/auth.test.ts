/** Security cases every signed runner route must pass: no job may start without a valid signature. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from "@vexxy/contract";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { makeJob } from "../support/jobs.js";
import { send } from "../support/signed-client.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.close();
});

function expectNothingStarted() {
  expect(h.driver.calls).toEqual([]);
  expect(h.runner.jobs.running).toBe(0);
}

describe("POST /v1/jobs signature", () => {
  it("refuses a request without signature headers", async () => {
    const res = await send(h.url, "POST", "/v1/jobs", JSON.stringify(makeJob()));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: "unauthorized", message: expect.stringContaining("missing signature headers") });
    expectNothingStarted();
  });

  it("refuses a signature made with another secret", async () => {
    const res = await send(h.url, "POST", "/v1/jobs", JSON.stringify(makeJob()), { secret: "another-secret-0123456789abcdef012345" });
    expect(res.status).toBe(401);
    expect(res.json.message).toContain("bad signature");
    expectNothingStarted();
  });

  it("accepts the previous secret during a rotation, and still refuses any other", async () => {
    const previous = "previous-secret-0123456789abcdef0123456789";
    const rotating = await startHarness({ previousSecret: previous });
    try {
      const ok = await send(rotating.url, "POST", "/v1/jobs", JSON.stringify(makeJob()), { secret: previous });
      expect(ok.status).toBe(202);
      const bad = await send(rotating.url, "POST", "/v1/jobs", JSON.stringify(makeJob()), { secret: "another-secret-0123456789abcdef012345" });
      expect(bad.status).toBe(401);
      expect(bad.json.message).toContain("bad signature");
    } finally {
      await rotating.close();
    }
    // Without the rotation setting the previous secret is just another secret.
    const res = await send(h.url, "POST", "/v1/jobs", JSON.stringify(makeJob()), { secret: previous });
    expect(res.status).toBe(401);
    expectNothingStarted();
  });

  it("refuses a body changed after signing", async () => {
    const job = makeJob();
    const headers = await signRequest(SECRET, "POST", "/v1/jobs", JSON.stringify(job));
    const tampered = JSON.stringify({ ...job, image_digest: "sha256:" + "cd".repeat(32) });
    const res = await send(h.url, "POST", "/v1/jobs", tampered, { headers });
    expect(res.status).toBe(401);
    expectNothingStarted();
  });

  it("refuses a signature for another path", async () => {
    const body = JSON.stringify(makeJob());
    const headers = await signRequest(SECRET, "POST", "/v1/jobs/other", body);
    const res = await send(h.url, "POST", "/v1/jobs", body, { headers });
    expect(res.status).toBe(401);
    expectNothingStarted();
  });

  it("refuses a stale timestamp", async () => {
    const res = await send(h.url, "POST", "/v1/jobs", JSON.stringify(makeJob()), { secret: SECRET, now: Date.now() - 10 * 60_000 });
    expect(res.status).toBe(401);
    expect(res.json.message).toContain("stale timestamp");
    expectNothingStarted();
  });

  it("refuses a replayed nonce even with a valid signature, and starts only one job", async () => {
    const body = JSON.stringify(makeJob());
    const headers = await signRequest(SECRET, "POST", "/v1/jobs", body);
    const first = await send(h.url, "POST", "/v1/jobs", body, { headers });
    expect(first.status).toBe(202);
    const replay = await send(h.url, "POST", "/v1/jobs", body, { headers });
    expect(replay.status).toBe(401);
    expect(replay.json.message).toContain("replayed nonce");
    expect(h.driver.calls.filter((c) => c === "prepareImage")).toHaveLength(1);
  });

  it("refuses a malformed signature header", async () => {
    const body = JSON.stringify(makeJob());
    const headers = await signRequest(SECRET, "POST", "/v1/jobs", body);
    headers[SIGNATURE_HEADER] = "v2=" + "0".repeat(64);
    const res = await send(h.url, "POST", "/v1/jobs", body, { headers: { ...headers, [TIMESTAMP_HEADER]: headers[TIMESTAMP_HEADER]!, [NONCE_HEADER]: headers[NONCE_HEADER]! } });
    expect(res.status).toBe(401);
    expectNothingStarted();
  });
});

describe("DELETE /v1/jobs/{id} signature", () => {
  it("refuses an unsigned cancel and leaves the job running", async () => {
    const job = makeJob();
    // Hold the job in its first phase so it is still running when the cancel arrives.
    let release!: () => void;
    h.driver.behaviour.prepareImage = () => new Promise<void>((r) => (release = r));
    expect((await send(h.url, "POST", "/v1/jobs", JSON.stringify(job), { secret: SECRET })).status).toBe(202);
    const res = await send(h.url, "DELETE", `/v1/jobs/${job.job_id}`, "");
    expect(res.status).toBe(401);
    expect(h.runner.jobs.running).toBe(1);
    release();
    const final = await h.worker.final(job.job_id);
    expect(final.kind).toBe("complete");
  });
});

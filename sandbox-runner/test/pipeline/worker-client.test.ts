/** The Worker client: signing, retry policy, 404/409 handling, inputs. Against a local receiver. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkerClient } from "../../src/worker-client/client.js";
import { JobGoneError, WorkerHttpError, WorkerUnreachableError } from "../../src/worker-client/errors.js";
import { backoffMs } from "../../src/worker-client/signed-fetch.js";
import { SECRET } from "../support/harness.js";
import { WorkerReceiver } from "../support/worker-receiver.js";
import { randomUUID } from "node:crypto";

let worker: WorkerReceiver;
let client: WorkerClient;
const jobId = randomUUID();
const progress = { phase: "pulling_image" as const, progress_percent: 0 };
const fail = { error_code: "internal" as const, error_message: "x", fault: "service" as const, sandbox_ran: false, sandbox_seconds: 0 };

beforeEach(async () => {
  worker = await new WorkerReceiver(SECRET).start();
  client = new WorkerClient({ baseUrl: worker.url, secret: SECRET, retry: { attempts: 4, baseDelayMs: 2, maxDelayMs: 10 }, requestTimeoutMs: 1_000 });
});
afterEach(async () => {
  await worker.close();
});

function failTimes(n: number, status: number) {
  let left = n;
  worker.respond = () => (left-- > 0 ? { status } : undefined);
}

describe("WorkerClient", () => {
  it("signs every attempt afresh: the receiver verifies all of them and sees no replayed nonce", async () => {
    failTimes(2, 503);
    await client.progress(jobId, progress);
    expect(worker.of(jobId, "progress")).toHaveLength(3);
    expect(worker.refused).toEqual([]);
  });

  it("retries 429 and 5xx up to the attempt limit, then raises the last HTTP error", async () => {
    failTimes(10, 500);
    await expect(client.fail(jobId, fail)).rejects.toBeInstanceOf(WorkerHttpError);
    expect(worker.of(jobId, "fail")).toHaveLength(4);
    worker.calls.length = 0;
    failTimes(1, 429);
    expect(await client.fail(jobId, fail)).toBe("delivered");
    expect(worker.of(jobId, "fail")).toHaveLength(2);
  });

  it("does not retry a 4xx other than 429", async () => {
    failTimes(10, 400);
    const err = await client.fail(jobId, fail).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerHttpError);
    expect((err as WorkerHttpError).status).toBe(400);
    expect(worker.of(jobId, "fail")).toHaveLength(1);
  });

  it("raises JobGoneError on progress answered 409 or 404; final callbacks report 'gone'", async () => {
    failTimes(1, 409);
    await expect(client.progress(jobId, progress)).rejects.toBeInstanceOf(JobGoneError);
    failTimes(1, 404);
    await expect(client.progress(jobId, progress)).rejects.toBeInstanceOf(JobGoneError);
    failTimes(1, 409);
    expect(await client.fail(jobId, fail)).toBe("gone");
    expect(worker.of(jobId, "progress")).toHaveLength(2);
  });

  it("retries network errors and gives up with WorkerUnreachableError", async () => {
    const url = worker.url;
    await worker.close();
    const offline = new WorkerClient({ baseUrl: url, secret: SECRET, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, requestTimeoutMs: 500 });
    const err = await offline.progress(jobId, progress).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerUnreachableError);
    expect((err as Error).message).toContain("after 3 attempts");
  });

  it("fetches stored inputs and treats 404 as none", async () => {
    worker.inputs.set(jobId, { sbom: { bomFormat: "CycloneDX", components: [{ name: "zlib" }] } });
    expect(await client.fetchInput(jobId, "sbom")).toEqual({ bomFormat: "CycloneDX", components: [{ name: "zlib" }] });
    expect(await client.fetchInput(jobId, "vulnerabilities")).toBeNull();
    expect(worker.calls.map((c) => `${c.method} ${c.kind}`)).toEqual(["GET inputs/sbom", "GET inputs/vulnerabilities"]);
  });

  it("refuses to send a body that breaks the contract", async () => {
    await expect(client.progress(jobId, { phase: "pulling_image", progress_percent: 101 })).rejects.toThrow();
    expect(worker.calls).toHaveLength(0);
  });

  it("signs the full path when WORKER_URL has a path prefix", async () => {
    const prefixed = new WorkerClient({ baseUrl: `${worker.url}/base`, secret: SECRET, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    // The receiver routes only /internal/..., so the prefixed call is recorded with an empty kind —
    // what matters is that its signature (over /base/internal/...) verified.
    await prefixed.progress(jobId, progress);
    expect(worker.refused).toEqual([]);
    expect(worker.calls[0]!.path).toBe(`/base/internal/v1/jobs/${jobId}/progress`);
  });
});

describe("backoff", () => {
  it("stays within the exponential ceiling, honours Retry-After, and never exceeds the maximum", () => {
    const p = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
    for (let i = 0; i < 200; i++) {
      expect(backoffMs(1, p)).toBeLessThanOrEqual(100);
      expect(backoffMs(3, p)).toBeLessThanOrEqual(400);
      expect(backoffMs(10, p)).toBeLessThanOrEqual(1_000);
      expect(backoffMs(1, p, 700)).toBeGreaterThanOrEqual(700);
      expect(backoffMs(1, p, 5_000)).toBe(1_000);
    }
  });
});

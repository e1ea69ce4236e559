/** What the service sends to and fetches from the base application. */
import { afterEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { handleWebhookBatch, webhookSignature } from "../src/queues/webhooks.js";
import { fetchBaseSbom } from "../src/services/analysis/fetchBaseSbom.js";
import { loadConfig, type Config } from "../src/env.js";
import { stubRunner } from "./support/runner.js";

let restore: (() => void) | null = null;
afterEach(() => restore?.());

const BASE = "http://127.0.0.1:9";
const SECRET = "base-app-webhook-secret-0123456789abcdef";

describe("completion webhook to the base application", () => {
  it("posts a signed event and acknowledges on 2xx, retries otherwise", async () => {
    let answer = 200;
    const stub = stubRunner(() => new Response("ok", { status: answer }));
    restore = stub.restore;
    const hookEnv = { ...env, BASE_VEXXY_WEBHOOK_URL: `${BASE}/hooks/premium`, BASE_VEXXY_WEBHOOK_SECRET: SECRET } as Env;
    const body = { event: "analysis.completed", job_id: crypto.randomUUID(), organization_id: crypto.randomUUID(), status: "complete", occurred_at: "2026-11-25T12:00:00Z" };
    const send = async () => {
      const batch = createMessageBatch("vexxy-outbound-webhooks", [{ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body }]);
      const ctx = createExecutionContext();
      await handleWebhookBatch(batch as MessageBatch, hookEnv);
      return getQueueResult(batch, ctx);
    };
    expect((await send()).explicitAcks).toHaveLength(1);
    const req = stub.seen[0]!;
    expect(new URL(req.url).pathname).toBe("/hooks/premium");
    const raw = await req.text();
    expect(JSON.parse(raw)).toEqual(body);
    const sig = req.headers.get("X-Vexxy-Signature")!;
    const t = Number(/t=(\d+)/.exec(sig)![1]);
    expect(sig).toBe(await webhookSignature(SECRET, raw, t * 1000));
    answer = 500;
    expect((await send()).retryMessages).toHaveLength(1);
  });
});

describe("SBOM from the base application", () => {
  const config = (): Config => ({ ...loadConfig(env), BASE_VEXXY_URL: BASE, BASE_VEXXY_SBOM_PATH: "/api/v1/sboms/{sbom_id}" });

  it("fetches with the caller's token from the configured host", async () => {
    const stub = stubRunner((req) => Response.json({ sbom: { bomFormat: "CycloneDX", specVersion: "1.5", seen: req.headers.get("Authorization") } }));
    restore = stub.restore;
    const id = crypto.randomUUID();
    const doc = await fetchBaseSbom(config(), id, "caller-token");
    expect(doc).toEqual({ bomFormat: "CycloneDX", specVersion: "1.5", seen: "Bearer caller-token" });
    expect(new URL(stub.seen[0]!.url).pathname).toBe(`/api/v1/sboms/${id}`);
  });

  it("never follows a redirect, and maps failures to clear errors", async () => {
    let res = () => new Response(null, { status: 302, headers: { Location: "https://evil.example/steal" } });
    const stub = stubRunner(() => res());
    restore = stub.restore;
    await expect(fetchBaseSbom(config(), crypto.randomUUID(), "t")).rejects.toMatchObject({ code: "EXTERNAL_SERVICE_ERROR" });
    expect(stub.seen).toHaveLength(1);
    res = () => new Response("nope", { status: 404 });
    await expect(fetchBaseSbom(config(), crypto.randomUUID(), "t")).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    res = () => new Response("<html>", { status: 200 });
    await expect(fetchBaseSbom(config(), crypto.randomUUID(), "t")).rejects.toMatchObject({ code: "EXTERNAL_SERVICE_ERROR" });
  });

  it("refuses a path template that leaves the configured host", async () => {
    await expect(fetchBaseSbom({ ...config(), BASE_VEXXY_SBOM_PATH: "//evil.example/{sbom_id}" }, crypto.randomUUID(), "t")).rejects.toThrow(/host/);
  });
});

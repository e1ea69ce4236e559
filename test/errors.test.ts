import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { buildApp } from "../src/app.js";
import { SPEC_ERROR_EXAMPLE, SPEC_SUBSCRIPTION, SPEC_TIERS } from "../src/routes/spec-examples.js";
import { call, expectEnvelope, json } from "./support/http.js";

describe("every error uses the envelope", () => {
  it("unknown route → 404", async () => {
    await expectEnvelope(await call("/api/v1/nope"), 404, "RESOURCE_NOT_FOUND");
  });
  it("wrong method → 405 with Allow", async () => {
    const res = await call("/api/v1/billing/tiers", { method: "DELETE" });
    await expectEnvelope(res, 405, "RESOURCE_NOT_FOUND");
    expect(res.headers.get("Allow")).toBe("GET");
  });
  it("echoes a sane X-Request-ID and replaces an unsafe one", async () => {
    const ok = await call("/api/v1/billing/tiers", { headers: { "X-Request-ID": "req-12345678" } });
    expect(ok.headers.get("X-Request-ID")).toBe("req-12345678");
    const bad = await call("/api/v1/billing/tiers", { headers: { "X-Request-ID": "<script>" } });
    expect(bad.headers.get("X-Request-ID")).toMatch(/^[0-9a-f-]{36}$/);
    const err = await call("/api/v1/nope", { headers: { "X-Request-ID": "req-abcdefgh" } });
    expect(err.headers.get("X-Request-ID")).toBe("req-abcdefgh");
  });
});

describe("CORS", () => {
  it("allows configured origins with credentials, never *", async () => {
    const res = await call("/api/v1/billing/tiers", { method: "OPTIONS", headers: { Origin: "http://localhost:8000", "Access-Control-Request-Method": "GET" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:8000");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const other = await call("/api/v1/billing/tiers", { headers: { Origin: "https://evil.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document generated from the validating schemas", async () => {
    const doc = await json(await call("/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/billing/subscription", "/api/v1/billing/credits", "/api/v1/billing/usage", "/api/v1/billing/events", "/api/v1/billing/tiers"]) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
    const limit = doc.paths["/api/v1/billing/events"].get.parameters.find((p: { name: string }) => p.name === "limit");
    expect(limit.schema).toMatchObject({ maximum: 200, minimum: 1 });
    expect(doc.components.schemas.Error.required).toEqual(expect.arrayContaining(["error", "message", "details", "timestamp"]));
  });
  it("gives every operation a unique operationId, a declared security, its errors in the envelope and the spec's examples", async () => {
    const doc = await json(await call("/openapi.json"));
    const ids = new Set<string>();
    const security = new Map<string, unknown>();
    for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
        expect(ids.has(op.operationId), `${where}: duplicate ${op.operationId}`).toBe(false);
        ids.add(op.operationId);
        expect(Array.isArray(op.security), `${where} declares its security`).toBe(true);
        security.set(where, op.security);
        for (const [status, res] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400) continue;
          const media = res.content["application/json"];
          expect(media.schema, `${where} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
          expect(media.example.error, `${where} ${status}`).toBe(res.description.split(":")[0]);
        }
      }
    }
    expect(security.get("GET /api/v1/billing/tiers")).toEqual([]);
    expect(security.get("POST /api/v1/auth/login")).toEqual([]);
    expect(security.get("GET /health")).toEqual([]);
    expect(security.get("GET /api/v1/billing/subscription")).toEqual([{ Bearer: [] }]);
    expect(security.get("POST /api/v1/webhooks/stripe")).toEqual([{ StripeSignature: [] }]);
    expect(security.get("POST /internal/v1/ops/organizations/{org_id}/credits")).toEqual([{ OperatorToken: [] }]);
    // The runner's signed callbacks stay out of the public document, on purpose (its description says why).
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/internal/v1/jobs"))).toEqual([]);
    // The spec's examples (§1, §2, §3) are the document's.
    expect(doc.paths["/api/v1/billing/tiers"].get.responses[200].content["application/json"].example).toEqual(SPEC_TIERS);
    expect(doc.paths["/api/v1/analysis/submit"].post.responses[429].content["application/json"].example).toEqual(SPEC_ERROR_EXAMPLE);
    expect(doc.paths["/api/v1/billing/subscription"].get.responses[200].content["application/json"].example).toMatchObject(SPEC_SUBSCRIPTION);
  });
  it("names this deployment's URL (PUBLIC_BASE_URL) and the local stack as its servers", async () => {
    const local = await json(await call("/openapi.json"));
    expect(local.servers.map((s: { url: string }) => s.url)).toEqual(["http://localhost:8001"]);
    const deployed = await buildApp().request("/openapi.json", {}, { ...env, PUBLIC_BASE_URL: "https://premium.acme.test/" });
    expect((await json(deployed)).servers.map((s: { url: string }) => s.url)).toEqual(["https://premium.acme.test", "http://localhost:8001"]);
  });
  it("serves interactive docs at /docs", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/openapi.json");
  });
});

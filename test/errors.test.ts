import { describe, expect, it } from "vitest";
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
  it("serves interactive docs at /docs", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("/openapi.json");
  });
});

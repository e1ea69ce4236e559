import { describe, expect, it } from "vitest";
import { call } from "./support/http.js";

describe("health", () => {
  it("answers with a request id", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("X-Request-ID")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

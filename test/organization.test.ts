/** GET/PATCH /api/v1/organization/settings: the organization's default VEX policy. */
import { describe, expect, it } from "vitest";
import { authSuite } from "./support/auth-suite.js";
import { call, expectEnvelope, json } from "./support/http.js";
import { newOrg } from "./support/orgs.js";

authSuite({ method: "GET", path: "/api/v1/organization/settings" });
authSuite({ method: "PATCH", path: "/api/v1/organization/settings", body: { default_vex_policy: "strict" } });

describe("organization settings", () => {
  it("starts standard; an admin changes it; each organization has its own", async () => {
    const a = await newOrg();
    const b = await newOrg();
    expect(await json(await call("/api/v1/organization/settings", { token: a.token }))).toEqual({ default_vex_policy: "standard" });
    const res = await call("/api/v1/organization/settings", { method: "PATCH", token: a.token, body: { default_vex_policy: "strict" } });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ default_vex_policy: "strict" });
    expect(await json(await call("/api/v1/organization/settings", { token: a.token }))).toEqual({ default_vex_policy: "strict" });
    expect(await json(await call("/api/v1/organization/settings", { token: b.token }))).toEqual({ default_vex_policy: "standard" });
  });

  it("only an organization admin may change it", async () => {
    const org = await newOrg({ admin: false });
    const err = await expectEnvelope(await call("/api/v1/organization/settings", { method: "PATCH", token: org.token, body: { default_vex_policy: "strict" } }), 403, "FORBIDDEN");
    expect(err.details).toEqual({ required_role: "admin" });
    expect(await json(await call("/api/v1/organization/settings", { token: org.token }))).toEqual({ default_vex_policy: "standard" });
  });

  it("refuses an unknown policy or field with 400 naming it", async () => {
    const org = await newOrg();
    for (const [body, field] of [
      [{ default_vex_policy: "lenient" }, "default_vex_policy"],
      [{ default_policy: "strict" }, ""],
    ] as const) {
      const err = await expectEnvelope(await call("/api/v1/organization/settings", { method: "PATCH", token: org.token, body }), 400, "VALIDATION_ERROR");
      if (field) expect(err.details.fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    expect(await json(await call("/api/v1/organization/settings", { token: org.token }))).toEqual({ default_vex_policy: "standard" });
  });
});

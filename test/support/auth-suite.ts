/**
 * The authentication cases every authenticated route must pass. Routes register themselves with
 * `authSuite(route)`; each case must answer 401 in the envelope and change nothing.
 */
import { describe, it, expect } from "vitest";
import { call, expectEnvelope } from "./http.js";
import { premiumClaims, signHs256, unsigned } from "./tokens.js";

export interface AuthedRoute {
  method: string;
  path: string;
  body?: unknown;
}

export function authSuite(route: AuthedRoute) {
  const send = (headers: Record<string, string>) =>
    call(route.path, { method: route.method, body: route.body, headers });

  describe(`${route.method} ${route.path}: authentication`, () => {
    it("refuses a missing Authorization header", async () => {
      const res = await send({});
      await expectEnvelope(res, 401, "UNAUTHORIZED");
      expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
    });
    it("refuses a wrong scheme", async () => {
      await expectEnvelope(await send({ Authorization: `Basic ${btoa("a:b")}` }), 401, "UNAUTHORIZED");
    });
    it("refuses garbage", async () => {
      await expectEnvelope(await send({ Authorization: "Bearer not-a-token" }), 401, "UNAUTHORIZED");
      await expectEnvelope(await send({ Authorization: "Bearer a.b.c" }), 401, "UNAUTHORIZED");
    });
    it("refuses a token signed with another secret", async () => {
      const t = await signHs256(premiumClaims(), "another-secret-another-secret-another-secret");
      const body = await expectEnvelope(await send({ Authorization: `Bearer ${t}` }), 401, "UNAUTHORIZED");
      expect(body.message).toMatch(/signature/i);
    });
    it("refuses alg: none", async () => {
      await expectEnvelope(await send({ Authorization: `Bearer ${unsigned(premiumClaims())}` }), 401, "UNAUTHORIZED");
    });
    it("refuses a token whose header claims another algorithm", async () => {
      const t = await signHs256(premiumClaims(), undefined, { alg: "HS512", typ: "JWT" });
      await expectEnvelope(await send({ Authorization: `Bearer ${t}` }), 401, "UNAUTHORIZED");
    });
    it("refuses an expired token (beyond the clock-skew allowance)", async () => {
      const now = Math.floor(Date.now() / 1000);
      const t = await signHs256(premiumClaims({ exp: now - 120, iat: now - 3600 }));
      const body = await expectEnvelope(await send({ Authorization: `Bearer ${t}` }), 401, "UNAUTHORIZED");
      expect(body.message).toMatch(/expired/i);
    });
    for (const claim of ["exp", "sub", "org_id", "email"] as const) {
      it(`refuses a token without ${claim}`, async () => {
        const claims = premiumClaims();
        delete claims[claim];
        await expectEnvelope(await send({ Authorization: `Bearer ${await signHs256(claims)}` }), 401, "UNAUTHORIZED");
      });
    }
    it("refuses a non-UUID org_id", async () => {
      const t = await signHs256(premiumClaims({ org_id: "acme" }));
      await expectEnvelope(await send({ Authorization: `Bearer ${t}` }), 401, "UNAUTHORIZED");
    });
  });
}

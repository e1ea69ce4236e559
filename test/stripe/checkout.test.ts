/** Payments API: Checkout for tiers and packs, tier changes, the portal; customers created once; admins only. */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, expectEnvelope, json } from "../support/http.js";
import { authSuite } from "../support/auth-suite.js";
import { ledgerFor } from "../../src/ledger/client.js";
import { account, checkout, customerOf, deliverAll, fake, newAdmin, stripe, subscribedOrg } from "./support.js";

authSuite({ method: "POST", path: "/api/v1/payments/checkout", body: { tier: "starter" } });
authSuite({ method: "POST", path: "/api/v1/payments/portal" });

describe("POST /api/v1/payments/checkout", () => {
  it("starts a subscription Checkout for a paid tier, with the organization in metadata", async () => {
    const { token, orgId } = await newAdmin();
    const body = await checkout(token, { tier: "professional" });
    expect(body.kind).toBe("checkout");
    expect(body.url).toMatch(/^http:\/\/stripe\.fake\/c\/pay\/cs_test_/);
    const session = await stripe.checkout.sessions.retrieve(body.session_id);
    expect(session).toMatchObject({ object: "checkout.session", mode: "subscription", client_reference_id: orgId, customer: await customerOf(orgId) });
    expect(session.metadata).toEqual({ organization_id: orgId, tier: "professional" });
    expect(session.success_url).toBe("http://localhost:8001/billing/success?session_id={CHECKOUT_SESSION_ID}");
  });

  it("creates the Stripe customer once per organization, even for concurrent requests", async () => {
    const { token, orgId } = await newAdmin();
    const results = await Promise.all(Array.from({ length: 5 }, () => call("/api/v1/payments/checkout", { token, body: { tier: "starter" } })));
    for (const r of results) expect(r.status).toBe(200);
    const customer = await customerOf(orgId);
    const all = await stripe.customers.list({ limit: 100 });
    expect(all.data.filter((c) => c.metadata.organization_id === orgId).map((c) => c.id)).toEqual([customer]);
    const again = await checkout(token, { pack: "pack_1000" });
    expect((await stripe.checkout.sessions.retrieve(again.session_id)).customer).toBe(customer);
  });

  it("sells a credit pack through Checkout (mode=payment) with the pack in the session's and payment's metadata", async () => {
    const { token, orgId } = await newAdmin();
    const body = await checkout(token, { pack: "pack_1000" });
    const session = await stripe.checkout.sessions.retrieve(body.session_id);
    const expected = { kind: "credit_pack", organization_id: orgId, pack_id: "pack_1000", credits: "1000", amount_cents: "10000" };
    expect(session).toMatchObject({ mode: "payment", amount_total: 10000, metadata: expected });
    const events = await fake.completeCheckout(body.session_id);
    const pi = events.find((e) => e.type === "payment_intent.succeeded")!.data.object;
    expect(pi.metadata).toEqual(expected);
  });

  it("keeps an allowed return_to for the result pages and drops any other", async () => {
    const { token } = await newAdmin();
    const ok = await checkout(token, { tier: "starter", return_to: "https://vexxy.example.com/settings?tab=billing" });
    expect((await stripe.checkout.sessions.retrieve(ok.session_id)).success_url).toBe(
      "http://localhost:8001/billing/success?session_id={CHECKOUT_SESSION_ID}&return_to=https%3A%2F%2Fvexxy.example.com%2Fsettings%3Ftab%3Dbilling",
    );
    const evil = await checkout(token, { tier: "starter", return_to: "https://evil.example.net/phish" });
    const s = await stripe.checkout.sessions.retrieve(evil.session_id);
    expect(s.success_url).not.toContain("evil");
    expect(s.cancel_url).toBe("http://localhost:8001/billing/cancel");
  });

  it("refuses members who are not admins (403) and creates nothing", async () => {
    const { token, orgId } = await newAdmin({ is_admin: false });
    for (const body of [{ tier: "starter" }, { pack: "pack_1000" }]) {
      const err = await expectEnvelope(await call("/api/v1/payments/checkout", { token, body }), 403, "FORBIDDEN");
      expect(err.message).toMatch(/admin/);
    }
    await expectEnvelope(await call("/api/v1/payments/portal", { token, method: "POST" }), 403, "FORBIDDEN");
    await expect(customerOf(orgId)).rejects.toThrow(/no Stripe customer/);
  });

  it("validates the request: the free tier, unknown tiers and packs, both or neither", async () => {
    const { token } = await newAdmin();
    for (const body of [{ tier: "free" }, { tier: "platinum" }, {}, { tier: "starter", pack: "pack_1000" }]) {
      await expectEnvelope(await call("/api/v1/payments/checkout", { token, body }), 400, "VALIDATION_ERROR");
    }
    const err = await expectEnvelope(await call("/api/v1/payments/checkout", { token, body: { pack: "pack_7" } }), 400, "VALIDATION_ERROR");
    expect(err.details.available).toEqual(["pack_1000", "pack_5000"]);
  });

  it("changes the tier of an existing subscription in place: an upgrade at once, a downgrade at period end", async () => {
    const org = await subscribedOrg("starter");
    expect((await account(org.orgId)).tier).toBe("starter");
    await expectEnvelope(await call("/api/v1/payments/checkout", { token: org.token, body: { tier: "starter" } }), 409, "RESOURCE_CONFLICT");

    const up = await checkout(org.token, { tier: "professional" });
    expect(up).toMatchObject({ kind: "changed", change: "upgrade", tier: "professional" });
    const sub = await stripe.subscriptions.retrieve(org.subscriptionId);
    expect(sub.items.data[0]!.price.id).toBe("price_professional_monthly");
    await deliverAll((await fake.events(org.customer)).filter((e) => !org.events.some((o) => o.id === e.id)));
    const afterUp = await account(org.orgId);
    expect(afterUp).toMatchObject({ tier: "professional", status: "active" });
    expect(afterUp.current_period_start).toBe(new Date(sub.items.data[0]!.current_period_start * 1000).toISOString().replace(".000", ""));

    const down = await checkout(org.token, { tier: "starter" });
    expect(down).toMatchObject({ kind: "changed", change: "downgrade", tier: "starter" });
    expect(down.effective_at).toBe(afterUp.current_period_end);
    expect((await stripe.subscriptions.retrieve(org.subscriptionId)).items.data[0]!.price.id).toBe("price_professional_monthly");
    expect((await account(org.orgId)).tier).toBe("professional");
    await deliverAll(await fake.renew(org.subscriptionId));
    const renewed = await account(org.orgId);
    expect(renewed).toMatchObject({ tier: "starter", status: "active", current_period_start: afterUp.current_period_end });
  });

  it("answers 502 in the envelope when Stripe refuses", async () => {
    const { token, orgId } = await newAdmin();
    await ledgerFor(env, orgId).changePlan({ orgId, opId: "test-missing-sub", tier: "starter", status: "active", stripeSubscriptionId: "sub_does_not_exist", reason: "test" });
    const err = await expectEnvelope(await call("/api/v1/payments/checkout", { token, body: { tier: "professional" } }), 502, "EXTERNAL_SERVICE_ERROR");
    expect(err.message).toMatch(/No such subscription/);
    expect(err.details.stripe_error_type).toBe("invalid_request_error");
  });
});

describe("POST /api/v1/payments/portal", () => {
  it("opens a customer portal session returning to the billing page", async () => {
    const { token, orgId } = await newAdmin();
    const res = await call("/api/v1/payments/portal", { token, method: "POST" });
    expect(res.status).toBe(200);
    const { url } = await json(res);
    expect(url).toMatch(/^http:\/\/stripe\.fake\/p\/session\/bps_/);
    expect(await customerOf(orgId)).toMatch(/^cus_/);
  });
});

/**
 * The fake Stripe API's check against Stripe's OpenAPI spec (test/support/fake-stripe/openapi.ts) catches
 * what it is there to catch: wrong requests are refused as Stripe refuses them, and events of a wrong
 * shape are reported — so the suites that rely on it cannot pass on a shape Stripe would not produce.
 */
import { describe, expect, it } from "vitest";
import Stripe from "stripe";
import { FAKE_STRIPE_BASE, TEST_SECRETS } from "../support/secrets.js";
import { checkout, deliver, eventProblems, fake, newAdmin, stripe, subscribedOrg } from "./support.js";

/** A raw form-encoded call to the fake, for parameters the SDK's types would not let through. */
async function rawPost(path: string, form: string) {
  const res = await fetch(`${FAKE_STRIPE_BASE}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${TEST_SECRETS.STRIPE_SECRET_KEY}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { error?: { type: string; code: string; param: string; message: string } } };
}

async function violations(): Promise<string[]> {
  return ((await (await fetch(`${FAKE_STRIPE_BASE}/_fake/violations`)).json()) as { violations: string[] }).violations;
}

describe("requests are checked against the spec", () => {
  it("refuses an unknown parameter with 400 parameter_unknown naming it, as Stripe does", async () => {
    const err = await stripe.customers.create({ name: "x", nickname: "y" } as Stripe.CustomerCreateParams).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: "parameter_unknown", param: "nickname" });
    expect(await violations()).toContainEqual(expect.stringMatching(/^request POST \/v1\/customers: nickname: unknown parameter/));
  });

  it("checks form-encoded nesting: an unknown key inside line_items[0] and a wrong type there", async () => {
    const base = "mode=payment&success_url=https%3A%2F%2Fexample.com%2Fok&line_items[0][price]=price_credits_1000";
    const unknown = await rawPost("/v1/checkout/sessions", `${base}&line_items[0][prize]=1`);
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: "parameter_unknown", param: "line_items[0][prize]" } } });
    const wrongType = await rawPost("/v1/checkout/sessions", `${base}&line_items[0][quantity]=many`);
    expect(wrongType).toMatchObject({ status: 400, body: { error: { code: "parameter_invalid", param: "line_items[0][quantity]" } } });
    const wrongEnum = await rawPost("/v1/checkout/sessions", "mode=rental&success_url=https%3A%2F%2Fexample.com%2Fok&line_items[0][price]=price_credits_1000");
    expect(wrongEnum).toMatchObject({ status: 400, body: { error: { code: "parameter_invalid", param: "mode" } } });
    // The same request with the documented parameters is served.
    expect((await rawPost("/v1/checkout/sessions", `${base}&line_items[0][quantity]=1`)).status).toBe(200);
  });

  it("checks query parameters too", async () => {
    const err = await stripe.subscriptions.list({ state: "open" } as Stripe.SubscriptionListParams).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 400, code: "parameter_unknown", param: "state" });
    const ok = await stripe.subscriptions.list({ status: "all", limit: 3 });
    expect(ok.object).toBe("list");
  });
});

describe("events are checked against the spec", () => {
  it("reports a missing field, a wrong type and an unknown enum value in data.object", async () => {
    const { events } = await subscribedOrg("starter", false);
    const created = events.find((e) => e.type === "customer.subscription.created")!;
    expect(await eventProblems(created)).toEqual([]);
    const sub = created.data.object;
    const withoutPeriod = structuredClone(created);
    delete withoutPeriod.data.object.items.data[0].current_period_end;
    expect(await eventProblems(withoutPeriod)).toContainEqual(expect.stringMatching(/items\/data\/0\/current_period_end: required, absent/));
    expect(await eventProblems({ ...created, data: { object: { ...sub, customer: 42 } } })).toContainEqual(expect.stringMatching(/subscription\/customer: must be/));
    expect(await eventProblems({ ...created, data: { object: { ...sub, status: "suspended" } } })).toContainEqual(expect.stringMatching(/subscription\/status: must be equal to one of the allowed values/));
    expect(await eventProblems({ ...created, livemode: "no" })).toContainEqual(expect.stringMatching(/livemode: must be boolean/));
  });

  it("accepts an expandable field expanded (the full object) as well as its id", async () => {
    const { events, customer } = await subscribedOrg("starter", false);
    const created = events.find((e) => e.type === "customer.subscription.created")!;
    const expanded = { ...created, data: { object: { ...created.data.object, customer: await stripe.customers.retrieve(customer) } } };
    expect(await eventProblems(expanded)).toEqual([]);
    const halfExpanded = { ...created, data: { object: { ...created.data.object, customer: { id: customer } } } };
    expect(await eventProblems(halfExpanded)).not.toEqual([]);
  });

  it("deliver() refuses to send an event Stripe could not send, and one declared malformed that is not", async () => {
    const { token } = await newAdmin();
    const events = await fake.completeCheckout((await checkout(token, { pack: "pack_1000" })).session_id);
    const pi = events.find((e) => e.type === "payment_intent.succeeded")!;
    await expect(deliver({ ...pi, data: { object: { ...pi.data.object, amount_received: "10000" } } })).rejects.toThrow(/not an event Stripe could send.*amount_received/);
    await expect(deliver(pi, { malformed: true })).rejects.toThrow(/declared malformed/);
  });
});

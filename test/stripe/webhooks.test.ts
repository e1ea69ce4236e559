/** POST /api/v1/webhooks/stripe: verification, and each handled event type's effect (through the ledger only). */
import { describe, expect, it, vi } from "vitest";
import { env } from "cloudflare:workers";
import { call, expectEnvelope, json } from "../support/http.js";
import { ledgerFor } from "../../src/ledger/client.js";
import type { AdmitResult } from "../../src/ledger/interface.js";
import { STRIPE_API_VERSION } from "../../src/services/stripe/client.js";
import { account, stripe, checkout, customerOf, deliver, deliverAll, entries, fake, newAdmin, processedCount, subscribedOrg } from "./support.js";

const NO_FEATURES = { fuzzing: false, profiling: false, code_coverage: false };
const isoOf = (s: number) => new Date(s * 1000).toISOString().replace(".000", "");

describe("signature verification", () => {
  async function pendingSubscription() {
    const admin = await newAdmin();
    const session = await checkout(admin.token, { tier: "professional" });
    const events = await fake.completeCheckout(session.session_id);
    return { ...admin, event: events.find((e) => e.type === "customer.subscription.created")! };
  }

  async function expectNothingChanged(orgId: string, eventId: string) {
    expect((await account(orgId)).tier).toBe("free");
    expect(await processedCount(eventId)).toBe(0);
  }

  it("refuses a missing Stripe-Signature header with 400 and changes nothing", async () => {
    const { orgId, event } = await pendingSubscription();
    const res = await call("/api/v1/webhooks/stripe", { method: "POST", body: event, headers: { "Content-Type": "application/json" } });
    const err = await expectEnvelope(res, 400, "VALIDATION_ERROR");
    expect(err.message).toMatch(/Stripe-Signature/);
    await expectNothingChanged(orgId, event.id);
  });

  it("refuses a signature made with another secret", async () => {
    const { orgId, event } = await pendingSubscription();
    const err = await expectEnvelope(await deliver(event, { secret: "whsec_someone_else_0000" }), 400, "VALIDATION_ERROR");
    expect(err.message).toMatch(/signature/i);
    await expectNothingChanged(orgId, event.id);
  });

  it("refuses a body changed after signing", async () => {
    const { orgId, event } = await pendingSubscription();
    const tampered = JSON.stringify({ ...event, data: { object: { ...event.data.object, customer: "cus_attacker" } } }, null, 2);
    await expectEnvelope(await deliver(event, { body: tampered }), 400, "VALIDATION_ERROR");
    await expectNothingChanged(orgId, event.id);
  });

  it("refuses a stale timestamp (beyond Stripe's 300 s tolerance) and a garbage header", async () => {
    const { orgId, event } = await pendingSubscription();
    const err = await expectEnvelope(await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 600 }), 400, "VALIDATION_ERROR");
    expect(err.message).toMatch(/tolerance|timestamp/i);
    const res = await call("/api/v1/webhooks/stripe", { method: "POST", body: event, headers: { "Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json" } });
    await expectEnvelope(res, 400, "VALIDATION_ERROR");
    await expectNothingChanged(orgId, event.id);
  });

  it("refuses a timestamp beyond the tolerance in the future too (an hour ahead credited a pack before)", async () => {
    const { orgId, event } = await pendingSubscription();
    const err = await expectEnvelope(await deliver(event, { timestamp: Math.floor(Date.now() / 1000) + 3600 }), 400, "VALIDATION_ERROR");
    expect(err.message).toMatch(/future/);
    await expectNothingChanged(orgId, event.id);
    // Within the tolerance it is processed as usual.
    expect((await deliver(event, { timestamp: Math.floor(Date.now() / 1000) + 60 })).status).toBe(200);
  });

  it("refuses an event rendered in another API version than the pinned one, changing nothing, with an error log naming both", async () => {
    const { orgId, event } = await pendingSubscription();
    expect(event.api_version).toBe(STRIPE_API_VERSION);
    const lines: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      const err = await expectEnvelope(await deliver({ ...event, api_version: "2024-06-20" }), 400, "VALIDATION_ERROR");
      expect(err.message).toContain("2024-06-20");
      expect(err.details).toEqual({ api_version: "2024-06-20", expected_api_version: STRIPE_API_VERSION });
    } finally {
      spy.mockRestore();
    }
    const refusal = lines.map((l) => JSON.parse(l)).find((l) => l.event_id === event.id);
    expect(refusal).toMatchObject({ level: "error", api_version: "2024-06-20", expected_api_version: STRIPE_API_VERSION });
    expect(refusal.msg).toMatch(/API version/);
    await expectNothingChanged(orgId, event.id);
    // The same event in the pinned version is applied.
    expect((await deliver(event)).status).toBe(200);
  });

  it("answers a correctly signed body of an odd shape with 400 in the envelope, never 500", async () => {
    const { orgId, event } = await pendingSubscription();
    const odd: unknown[] = [
      null,
      [],
      "event",
      42,
      { ...event, id: undefined },
      { ...event, id: "" },
      { ...event, type: undefined },
      { ...event, data: undefined },
      { ...event, data: {} },
      { ...event, data: { object: null } },
      { ...event, data: { object: [] } },
      { ...event, type: "customer.subscription.updated", data: { object: { customer: "cus_x" } } }, // no id
      { ...event, type: "invoice.paid", data: { object: { customer: 7 } } },
      { ...event, type: "payment_intent.succeeded", data: { object: { id: "pi_1", metadata: {} } } }, // no amount
      { ...event, type: "checkout.session.completed", data: { object: { id: "cs_1" } } }, // no mode
    ];
    for (const body of odd) {
      // Stripe's spec sets no minimum length on an event id: the empty one is refused by the service's own rule.
      const res = await deliver(body, { malformed: (body as { id?: unknown } | null)?.id !== "" });
      const err = await expectEnvelope(res, 400, "VALIDATION_ERROR");
      expect(err.message, JSON.stringify(body)?.slice(0, 80)).toMatch(/webhook body/);
    }
    await expectNothingChanged(orgId, event.id);
    // An unknown type of the right envelope is acknowledged as ignored.
    const unknown = await deliver({ ...event, id: `evt_${crypto.randomUUID()}`, type: "radar.early_fraud_warning.created", data: { object: { id: "issfr_1" } } });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toMatchObject({ outcome: "ignored" });
  });
});

describe("subscription events", () => {
  it("checkout.session.completed + customer.subscription.created link the subscription: tier, status, Stripe's period, fresh grant", async () => {
    const org = await subscribedOrg("professional");
    const sub = org.events.find((e) => e.type === "customer.subscription.created")!.data.object;
    const a = await account(org.orgId);
    expect(a).toMatchObject({
      tier: "professional",
      status: "active",
      stripe_subscription_id: org.subscriptionId,
      current_period_start: isoOf(sub.items.data[0].current_period_start),
      current_period_end: isoOf(sub.items.data[0].current_period_end),
      monthly_analysis_limit: 500,
      monthly_credit_limit: 5000,
      cancel_at_period_end: false,
      balance: 5000,
    });
    const log = await entries(org.orgId);
    expect(log.map((e) => e.type)).toEqual(["plan_grant", "grant_expired", "plan_grant"]);
    expect(log.filter((e) => e.type === "credit_purchased")).toEqual([]); // the subscription's payment intent is not a pack
    const res = await call("/api/v1/billing/subscription", { token: org.token });
    expect(await json(res)).toMatchObject({ tier: "professional", credit_balance: 5000 });
  });

  it("each event is processed once; a redelivery is acknowledged as a duplicate", async () => {
    const org = await subscribedOrg("starter");
    for (const e of org.events) {
      const res = await deliver(e);
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({ received: true, event_id: e.id, outcome: "duplicate" });
      expect(await processedCount(e.id)).toBe(1);
    }
  });

  it("invoice.paid for a new period rolls over: counters reset, unspent grant expires, new grant naming the invoice", async () => {
    const org = await subscribedOrg("starter");
    const ledger = ledgerFor(env, org.orgId);
    const admitted = await ledger.admit({ orgId: org.orgId, jobId: crypto.randomUUID(), features: NO_FEATURES, testTimeoutSeconds: 60 });
    expect(admitted.ok).toBe(true);
    const cost = admitted.ok ? admitted.hold : 0;
    expect(cost).toBeGreaterThan(0);
    if (admitted.ok) await ledger.settle({ orgId: org.orgId, jobId: admitted.jobId, cost, outcome: "completed", description: "job" });
    const before = await account(org.orgId);
    expect(before).toMatchObject({ current_period_analyses: 1, current_period_credits_used: cost, balance: 1000 - cost });
    const renewal = await fake.renew(org.subscriptionId);
    expect(renewal.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_succeeded", "invoice.paid"]);
    // The invoice alone (as if the subscription update were lost) is enough: the handler re-reads the subscription.
    await deliverAll(renewal.filter((e) => e.type === "invoice.paid"));
    const after = await account(org.orgId);
    expect(after).toMatchObject({ tier: "starter", status: "active", current_period_start: before.current_period_end, current_period_analyses: 0, current_period_credits_used: 0, balance: 1000 });
    const tail = (await entries(org.orgId)).slice(-2);
    expect(tail.map((e) => [e.type, e.amount])).toEqual([["grant_expired", cost - 1000], ["plan_grant", 1000]]);
    expect(tail[1]!.stripe_object_id).toBe(renewal[2]!.data.object.id);
    await deliverAll(renewal.filter((e) => e.type !== "invoice.paid"));
    expect(await account(org.orgId)).toEqual({ ...after, version: (await account(org.orgId)).version });
  });

  it("invoice.payment_failed makes the subscription past_due: new analyses are refused with 403 saying where to fix it", async () => {
    const org = await subscribedOrg("professional");
    await deliverAll(await fake.renew(org.subscriptionId, "failed"));
    expect((await account(org.orgId)).status).toBe("past_due");
    const refused = (await ledgerFor(env, org.orgId).admit({ orgId: org.orgId, jobId: crypto.randomUUID(), features: NO_FEATURES, testTimeoutSeconds: 60 })) as unknown as AdmitResult;
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.refusal.code).toBe("FORBIDDEN");
      expect(refused.refusal.message).toMatch(/past_due.*payment.*\/billing\/portal/);
    }
    // The next successful renewal makes it active again.
    await deliverAll(await fake.renew(org.subscriptionId));
    expect((await account(org.orgId)).status).toBe("active");
  });

  it("customer.subscription.deleted returns the organization to the free tier and unlinks the subscription", async () => {
    const org = await subscribedOrg("professional");
    await deliverAll(await fake.cancelNow(org.subscriptionId));
    const a = await account(org.orgId);
    expect(a).toMatchObject({ tier: "free", status: "active", stripe_subscription_id: null, monthly_analysis_limit: 10 });
    expect(a.grant_remaining).toBeLessThanOrEqual(100);
    const last = (await entries(org.orgId)).at(-1)!;
    expect(last).toMatchObject({ type: "plan_changed", stripe_event_id: expect.stringMatching(/^evt_/) });
    expect(last.description).toContain("professional to free");
  });

  it("customer.subscription.updated carries cancel_at_period_end; the period end then ends the subscription", async () => {
    const org = await subscribedOrg("starter");
    await stripe.subscriptions.update(org.subscriptionId, { cancel_at_period_end: true });
    await deliverAll((await fake.events(org.customer)).filter((e) => !org.events.some((o) => o.id === e.id)));
    expect(await account(org.orgId)).toMatchObject({ tier: "starter", cancel_at_period_end: true });
    await deliverAll(await fake.renew(org.subscriptionId));
    expect(await account(org.orgId)).toMatchObject({ tier: "free", cancel_at_period_end: false, stripe_subscription_id: null });
  });

  it("events for customers that are not ours are acknowledged without effect", async () => {
    const admin = await newAdmin();
    const session = await checkout(admin.token, { tier: "starter" });
    const events = await fake.completeCheckout(session.session_id);
    for (const e of events) {
      const forged = { ...e, id: `${e.id}_x`, data: { object: { ...e.data.object, customer: "cus_unknown_to_us" } } };
      const res = await deliver(forged);
      expect(res.status).toBe(200);
      expect((await json(res)).outcome).toBe("ignored");
    }
    expect((await account(admin.orgId)).tier).toBe("free");
  });
});

describe("credit packs", () => {
  it("a pack paid through Checkout is credited once although checkout.session.completed and payment_intent.succeeded both arrive", async () => {
    const { token, orgId } = await newAdmin();
    const session = await checkout(token, { pack: "pack_1000" });
    const events = await fake.completeCheckout(session.session_id);
    expect(events.map((e) => e.type)).toEqual(["payment_intent.succeeded", "checkout.session.completed"]);
    const pi = events[0]!.data.object;
    for (const e of [...events].reverse()) await deliver(e);
    for (const e of events) await deliver(e);
    const a = await account(orgId);
    expect(a.purchased_balance).toBe(1000);
    expect(a.balance).toBe(1100);
    const purchases = (await entries(orgId)).filter((e) => e.type === "credit_purchased");
    expect(purchases).toHaveLength(1);
    expect(purchases[0]).toMatchObject({
      amount: 1000,
      purchased_amount: 1000,
      stripe_object_id: pi.id,
      stripe_event_id: events[1]!.id,
      description: "Purchased 1000 credits for $100.00",
    });
    // The spec's billing history shows it (after the ledger's outbox reaches D1).
    await ledgerFor(env, orgId).deliver(orgId);
    const history = await json(await call("/api/v1/billing/events", { token }));
    expect(history[0]).toMatchObject({ event_type: "credit_purchased", credits_amount: 1000, balance_after: 1100, description: "Purchased 1000 credits for $100.00" });
  });

  it("payment_intent.payment_failed credits nothing and is acknowledged", async () => {
    const { token, orgId } = await newAdmin();
    const session = await checkout(token, { pack: "pack_5000" });
    const events = await fake.completeCheckout(session.session_id, "failed");
    expect(events.map((e) => e.type)).toEqual(["payment_intent.payment_failed"]);
    const res = await deliver(events[0]);
    expect(res.status).toBe(200);
    expect(await processedCount(events[0]!.id)).toBe(1);
    expect((await account(orgId)).purchased_balance).toBe(0);
  });

  it("never credits a payment that is not a credit pack, nor a pack whose metadata names another organization", async () => {
    const org = await subscribedOrg("starter");
    const subscriptionPayment = org.events.find((e) => e.type === "payment_intent.succeeded")!;
    expect(subscriptionPayment.data.object.metadata).toEqual({});
    const other = await newAdmin();
    const session = await checkout(other.token, { pack: "pack_1000" });
    const [pi] = await fake.completeCheckout(session.session_id);
    const forged = { ...pi!, id: `${pi!.id}_forged`, data: { object: { ...pi!.data.object, metadata: { ...pi!.data.object.metadata, organization_id: org.orgId } } } };
    expect((await json(await deliver(forged))).outcome).toBe("ignored");
    expect((await account(org.orgId)).purchased_balance).toBe(0);
    expect((await account(other.orgId)).purchased_balance).toBe(0);
  });
});

describe("failures", () => {
  it("answers 5xx when processing fails (Stripe retries) and applies the event on the retry", async () => {
    const admin = await newAdmin();
    const session = await checkout(admin.token, { tier: "starter" });
    const [created] = await fake.completeCheckout(session.session_id);
    const customer = await customerOf(admin.orgId);
    // The event names a subscription Stripe cannot find: the re-read fails, so the delivery must fail.
    const broken = { ...created!, id: `${created!.id}_broken`, data: { object: { ...created!.data.object, id: "sub_missing", customer } } };
    const res = await deliver(broken);
    expect(res.status).toBeGreaterThanOrEqual(500);
    await expectEnvelope(res, 502, "EXTERNAL_SERVICE_ERROR");
    expect(await processedCount(broken.id)).toBe(0);
    expect((await json(await deliver(created))).outcome).toBe("applied");
    expect((await account(admin.orgId)).tier).toBe("starter");
  });
});

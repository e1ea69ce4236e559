/**
 * Credit packs whose payment fails, through the webhook endpoint and the fake Stripe API: a billing event
 * of its own that moves no credits, recorded once however its failure is reported.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, json } from "../support/http.js";
import { ledgerFor } from "../../src/ledger/client.js";
import { account, checkout, deliver, deliverAll, deliverShuffled, fake, newAdmin, type FakeEvent } from "./support.js";

async function billingEvents(token: string, orgId: string) {
  await ledgerFor(env, orgId).deliver(orgId);
  return json(await call("/api/v1/billing/events?limit=200", { token }));
}


describe("failed credit-pack payments", () => {
  it("a declined card is a billing event of its own (credit_purchase_failed) that moves no credits, recorded once", async () => {
    const { token, orgId } = await newAdmin();
    const before = await account(orgId);
    const events = await fake.completeCheckout((await checkout(token, { pack: "pack_5000" })).session_id, "failed");
    expect(events.map((e) => e.type)).toEqual(["payment_intent.payment_failed"]);
    for (const e of [...events, ...events]) expect((await deliver(e)).status).toBe(200);
    const after = await account(orgId);
    expect(after).toMatchObject({ balance: before.balance, purchased_balance: 0 });
    const failed = (await billingEvents(token, orgId)).filter((e: { event_type: string }) => e.event_type === "credit_purchase_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ credits_amount: 0, grant_amount: 0, purchased_amount: 0, held_amount: 0, balance_after: before.balance, stripe_event_id: events[0]!.id });
    expect(failed[0].description).toBe("Payment for 5000 credits ($450.00) failed; nothing credited (Your card was declined)");
  });

  it("an asynchronous payment that fails: Checkout completes unpaid (nothing), then both failure events record one billing event, shuffled and repeated", async () => {
    const { token, orgId } = await newAdmin();
    const session = await checkout(token, { pack: "pack_1000" });
    const pending = await fake.completeCheckout(session.session_id, "pending");
    expect(pending.map((e) => e.type)).toEqual(["payment_intent.processing", "checkout.session.completed"]);
    const failed = await fake.settleAsyncPayment(session.session_id, "failed");
    expect(failed.map((e) => e.type)).toEqual(["payment_intent.payment_failed", "checkout.session.async_payment_failed"]);
    await deliverShuffled([...pending, ...failed], 3, 2);
    expect((await account(orgId)).purchased_balance).toBe(0);
    const history = await billingEvents(token, orgId);
    const records = history.filter((e: { event_type: string }) => e.event_type === "credit_purchase_failed");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ credits_amount: 0 });
    expect(records[0].description).toBe("Payment for 1000 credits ($100.00) failed; nothing credited (The bank debit failed: insufficient funds)");
    expect(history.filter((e: { event_type: string }) => e.event_type === "credit_purchased")).toEqual([]);
  });

  it("an asynchronous payment that succeeds is credited once (payment_intent.succeeded and async_payment_succeeded), and no failure is recorded", async () => {
    const { token, orgId } = await newAdmin();
    const session = await checkout(token, { pack: "pack_1000" });
    const pending = await fake.completeCheckout(session.session_id, "pending");
    await deliverAll(pending);
    expect((await account(orgId)).purchased_balance).toBe(0);
    const paid = await fake.settleAsyncPayment(session.session_id, "succeeded");
    expect(paid.map((e) => e.type)).toEqual(["payment_intent.succeeded", "checkout.session.async_payment_succeeded"]);
    await deliverShuffled(paid, 11, 2);
    expect((await account(orgId)).purchased_balance).toBe(1000);
    const history = await billingEvents(token, orgId);
    expect(history.filter((e: { event_type: string }) => e.event_type === "credit_purchased")).toHaveLength(1);
    expect(history.filter((e: { event_type: string }) => e.event_type === "credit_purchase_failed")).toEqual([]);
  });
});

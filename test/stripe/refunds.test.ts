/**
 * Refunds and disputes of a credit pack, through the webhook endpoint and the fake Stripe API: the unspent
 * part of the pack is taken back with a billing event naming the charge, the balance never goes negative
 * (nor below what running analyses hold), and what could not be taken back is recorded.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, json } from "../support/http.js";
import { ledgerFor } from "../../src/ledger/client.js";
import { account, checkout, deliver, deliverAll, entries, fake, newAdmin } from "./support.js";

async function boughtPack(pack: "pack_1000" | "pack_5000" = "pack_1000", deliverPurchase = true) {
  const admin = await newAdmin();
  const purchase = await fake.completeCheckout((await checkout(admin.token, { pack })).session_id);
  if (deliverPurchase) await deliverAll(purchase);
  const pi = purchase.find((e) => e.type === "payment_intent.succeeded")!.data.object;
  return { ...admin, purchase, chargeId: pi.latest_charge as string, paymentIntentId: pi.id as string };
}

async function reversals(token: string, orgId: string) {
  await ledgerFor(env, orgId).deliver(orgId);
  const history = await json(await call("/api/v1/billing/events?limit=200", { token }));
  return history.filter((e: { event_type: string }) => e.event_type === "credit_reversed");
}

describe("refunds of a credit pack", () => {
  it("a full refund takes the pack's credits back with a billing event naming the charge; redelivery takes nothing more", async () => {
    const org = await boughtPack();
    expect(await account(org.orgId)).toMatchObject({ purchased_balance: 1000, balance: 1100 });
    const refund = await fake.refundCharge(org.chargeId);
    expect(refund.map((e) => e.type)).toEqual(["charge.refunded"]);
    await deliverAll([...refund, ...refund]);
    expect(await account(org.orgId)).toMatchObject({ purchased_balance: 0, balance: 100 });
    const [event, ...more] = await reversals(org.token, org.orgId);
    expect(more).toEqual([]);
    expect(event).toMatchObject({ credits_amount: -1000, purchased_amount: -1000, balance_after: 100, stripe_event_id: refund[0]!.id });
    expect(event.description).toBe(`Refund of charge ${org.chargeId} ($100.00 refunded in all) (credit pack paid by ${org.paymentIntentId}): took back 1000 of 1000 credits`);
  });

  it("partial refunds take back the refunded share, once, whatever the order and however often they arrive", async () => {
    const org = await boughtPack("pack_5000"); // 5000 credits for $450.00
    const first = await fake.refundCharge(org.chargeId, 9000); // 20 %
    const second = await fake.refundCharge(org.chargeId, 13500); // 50 % in all
    await deliverAll([...second, ...first, ...second, ...first]);
    expect((await account(org.orgId)).purchased_balance).toBe(2500);
    const log = (await entries(org.orgId)).filter((e) => e.type === "credit_reversed");
    expect(log.map((e) => e.amount)).toEqual([-2500]);
    expect(log[0]!.stripe_object_id).toBe(org.chargeId);
    // In order, a second organization ends the same, in two steps.
    const other = await boughtPack("pack_5000");
    const a = await fake.refundCharge(other.chargeId, 9000);
    const b = await fake.refundCharge(other.chargeId, 13500);
    await deliverAll([...a, ...b]);
    expect((await account(other.orgId)).purchased_balance).toBe(2500);
    expect((await entries(other.orgId)).filter((e) => e.type === "credit_reversed").map((e) => e.amount)).toEqual([-1000, -1500]);
  });

  it("never drives the balance negative nor below running analyses' holds, and records what could not be taken back", async () => {
    const org = await boughtPack();
    const ledger = ledgerFor(env, org.orgId);
    // Spend 400 purchased credits (after the 100 of the free grant), and hold 300 for a running analysis.
    const spent = await ledger.admit({ orgId: org.orgId, jobId: crypto.randomUUID(), features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 147_000 });
    expect(spent).toMatchObject({ ok: true, hold: 500 });
    if (spent.ok) await ledger.settle({ orgId: org.orgId, jobId: spent.jobId, cost: 500, outcome: "completed", description: "analysis" });
    const running = await ledger.admit({ orgId: org.orgId, jobId: crypto.randomUUID(), features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 87_000 });
    expect(running).toMatchObject({ ok: true, hold: 300 });
    expect(await account(org.orgId)).toMatchObject({ grant_remaining: 0, purchased_balance: 600, held: 300 });

    await deliverAll(await fake.refundCharge(org.chargeId));
    const after = await account(org.orgId);
    expect(after).toMatchObject({ purchased_balance: 300, balance: 300, held: 300, available: 0 });
    const [event] = await reversals(org.token, org.orgId);
    expect(event).toMatchObject({ credits_amount: -300, balance_after: 300 });
    expect(event.description).toMatch(/took back 300 of 1000 credits; 700 could not be taken back \(already spent or held by running analyses\)$/);
    // The running analysis still settles against what it holds.
    if (running.ok) await ledger.settle({ orgId: org.orgId, jobId: running.jobId, cost: 300, outcome: "completed", description: "analysis" });
    expect(await account(org.orgId)).toMatchObject({ balance: 0, held: 0 });
    // With another pack bought since, a dispute of the same charge owes nothing more: the shortfall was
    // accounted for, not taken from the other purchase.
    await deliverAll(await fake.completeCheckout((await checkout(org.token, { pack: "pack_1000" })).session_id));
    expect((await account(org.orgId)).purchased_balance).toBe(1000);
    await deliverAll(await fake.disputeCharge(org.chargeId, 10_000));
    expect((await account(org.orgId)).purchased_balance).toBe(1000);
    expect((await entries(org.orgId)).filter((e) => e.type === "credit_reversed")).toHaveLength(1);
  });
});

describe("disputes of a credit pack", () => {
  it("charge.dispute.created takes back the disputed pack, even delivered before the purchase events, which then credit nothing", async () => {
    const org = await boughtPack("pack_1000", false);
    const dispute = await fake.disputeCharge(org.chargeId);
    expect(dispute.map((e) => e.type)).toEqual(["charge.dispute.created"]);
    await deliverAll([...dispute, ...org.purchase, ...dispute, ...org.purchase]);
    expect(await account(org.orgId)).toMatchObject({ purchased_balance: 0, balance: 100 });
    const log = await entries(org.orgId);
    expect(log.filter((e) => e.type === "credit_purchased").map((e) => e.amount)).toEqual([1000]);
    const reversed = log.filter((e) => e.type === "credit_reversed");
    expect(reversed.map((e) => [e.amount, e.stripe_object_id])).toEqual([[-1000, org.chargeId]]);
    expect(reversed[0]!.description).toMatch(new RegExp(`^Dispute dp_\\w+ of charge ${org.chargeId} \\(\\$100\\.00 disputed\\)`));
    // Both are in the billing history, each once.
    const history = await json(await (async () => (await ledgerFor(env, org.orgId).deliver(org.orgId), call("/api/v1/billing/events?limit=200", { token: org.token })))());
    expect(history.filter((e: { event_type: string }) => e.event_type === "credit_purchased")).toHaveLength(1);
    expect(history.filter((e: { event_type: string }) => e.event_type === "credit_reversed").map((e: { credits_amount: number }) => e.credits_amount)).toEqual([-1000]);
  });

  it("a refund or dispute of a payment that is not a credit pack (a subscription's) changes nothing", async () => {
    const admin = await newAdmin();
    const events = await fake.completeCheckout((await checkout(admin.token, { tier: "starter" })).session_id);
    await deliverAll(events);
    const before = await account(admin.orgId);
    const charge = events.find((e) => e.type === "payment_intent.succeeded")!.data.object.latest_charge;
    for (const e of [...(await fake.refundCharge(charge, 500)), ...(await fake.disputeCharge(charge))]) {
      const res = await deliver(e);
      expect(res.status).toBe(200);
      expect((await json(res)).outcome).toBe("ignored");
    }
    expect(await account(admin.orgId)).toEqual(before);
  });
});

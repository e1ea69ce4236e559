/**
 * The subscription lifecycle through the webhook endpoint and the fake Stripe API: the plan grant follows
 * the payment of the period's invoice (not the period change), past_due while Stripe retries, the grant
 * when a retry pays, the free tier when the retries end; and every flow again with its events shuffled
 * and repeated.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call, expectEnvelope, json } from "../support/http.js";
import { submission } from "../support/orgs.js";
import { ledgerFor } from "../../src/ledger/client.js";
import type { LedgerEntry } from "../../src/ledger/interface.js";
import { account, checkout, deliver, deliverAll, deliverShuffled, entries, fake, stripe, subscribedOrg, type FakeEvent } from "./support.js";

const isoOf = (s: number) => new Date(s * 1000).toISOString().replace(".000", "");



const grants = (log: LedgerEntry[]) => log.filter((e) => e.type === "plan_grant");

async function billingEvents(token: string, orgId: string) {
  await ledgerFor(env, orgId).deliver(orgId);
  return json(await call("/api/v1/billing/events?limit=200", { token }));
}

describe("the plan grant follows payment", () => {
  it("a renewal whose invoice fails starts the period without its grant; analyses are refused while Stripe retries; the paying retry posts it", async () => {
    const org = await subscribedOrg("starter");
    const before = await account(org.orgId);
    expect(before.grant_remaining).toBe(1000);

    const failed = await fake.renew(org.subscriptionId, "failed");
    expect(failed.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_failed"]);
    const invoiceId = failed[1]!.data.object.id as string;
    await deliverAll(failed);
    const pastDue = await account(org.orgId);
    expect(pastDue).toMatchObject({ tier: "starter", status: "past_due", current_period_start: before.current_period_end, grant_remaining: 0, balance: 0 });
    const err = await expectEnvelope(await call("/api/v1/analysis/submit", { token: org.token, body: submission() }), 403, "FORBIDDEN");
    expect(err.message).toMatch(/past_due/);
    expect(err.message).toContain("/billing/portal");
    const history = await billingEvents(org.token, org.orgId);
    expect(history[0].description).toMatch(/New billing period .* the plan grant follows the payment of the period's invoice/);

    // A retry that fails again changes nothing.
    const again = await fake.attemptInvoice(invoiceId, "failed");
    expect(again.map((e) => e.type)).toEqual(["invoice.payment_failed"]);
    await deliverAll(again);
    expect(await account(org.orgId)).toMatchObject({ status: "past_due", grant_remaining: 0 });

    // The retry that pays: active again, and the period's grant, naming the invoice.
    const paid = await fake.attemptInvoice(invoiceId);
    expect(paid.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_succeeded", "invoice.paid"]);
    await deliverAll(paid);
    const after = await account(org.orgId);
    expect(after).toMatchObject({ status: "active", current_period_start: before.current_period_end, grant_remaining: 1000, balance: 1000 });
    const log = await entries(org.orgId);
    const last = grants(log).at(-1)!;
    expect(last).toMatchObject({ amount: 1000, stripe_object_id: invoiceId });
    expect(last.description).toContain(`invoice ${invoiceId} paid`);
    expect((await call("/api/v1/analysis/submit", { token: org.token, body: submission() })).status).toBe(201);

    // Every event again: nothing more.
    const count = log.length;
    await deliverAll([...failed, ...again, ...paid].map((e) => e));
    expect(await entries(org.orgId)).toHaveLength(count + 1); // only the admission's hold
  });

  it("converges whatever the order: invoice.paid before customer.subscription.updated, the reverse, and each three times shuffled", async () => {
    const orgs = [await subscribedOrg("starter"), await subscribedOrg("starter"), await subscribedOrg("starter"), await subscribedOrg("starter")];
    const scenario = async (o: (typeof orgs)[number]) => {
      const failed = await fake.renew(o.subscriptionId, "failed");
      const retried = await fake.attemptInvoice(failed[1]!.data.object.id, "failed");
      const paid = await fake.attemptInvoice(failed[1]!.data.object.id);
      return [...failed, ...retried, ...paid];
    };
    const [live, inOrder, reversed, mixed] = orgs;
    // Live: each event as it happens (the period starts unpaid, then the grant arrives).
    await deliverAll(await scenario(live!));
    // After the fact: every handler finds the invoice already paid.
    const a = await scenario(inOrder!);
    const b = await scenario(reversed!);
    const c = await scenario(mixed!);
    await deliverAll(a);
    const invoicePaidFirst = [...b].reverse();
    expect(invoicePaidFirst[0]!.type).toBe("invoice.paid");
    await deliverAll(invoicePaidFirst);
    await deliverShuffled(c, 17);

    const state = async (orgId: string) => {
      const x = await account(orgId);
      return { tier: x.tier, status: x.status, period: x.current_period_start, grant: x.grant_remaining, balance: x.balance };
    };
    const expected = await state(live!.orgId);
    expect(expected).toMatchObject({ tier: "starter", status: "active", grant: 1000, balance: 1000 });
    for (const o of [inOrder!, reversed!, mixed!]) {
      expect(await state(o.orgId)).toEqual(expected);
      // One grant for the first period and one for the renewed one; never two for a period.
      expect(grants(await entries(o.orgId)).filter((g) => g.amount > 0 && g.stripe_object_id?.startsWith("in_"))).toHaveLength(2);
    }
  });

  it("a paid renewal's grant arrives once, whether invoice.paid or customer.subscription.updated comes first", async () => {
    const [x, y] = [await subscribedOrg("starter"), await subscribedOrg("starter")];
    const rx = await fake.renew(x.subscriptionId);
    const ry = await fake.renew(y.subscriptionId);
    expect(rx.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_succeeded", "invoice.paid"]);
    await deliverAll([rx[2]!, rx[0]!, rx[1]!, rx[2]!]);
    await deliverAll([ry[0]!, ry[0]!, ry[1]!, ry[2]!]);
    for (const [o, r] of [[x, rx], [y, ry]] as const) {
      const a = await account(o.orgId);
      expect(a).toMatchObject({ status: "active", current_period_start: isoOf(r[0]!.data.object.items.data[0].current_period_start), grant_remaining: 1000 });
      expect(grants(await entries(o.orgId)).filter((g) => g.stripe_object_id === r[2]!.data.object.id)).toHaveLength(1);
    }
  });
});

describe("when Stripe's retries end", () => {
  for (const then of ["canceled", "unpaid"] as const) {
    it(`a subscription left ${then} returns the organization to the free tier, in order and shuffled`, async () => {
      const [live, late] = [await subscribedOrg("professional"), await subscribedOrg("professional")];
      // Live: each step's events as they happen.
      await deliverAll(await fake.renew(live.subscriptionId, "failed"));
      expect(await account(live.orgId)).toMatchObject({ tier: "professional", status: "past_due", grant_remaining: 0 });
      await deliverAll(await fake.retriesExhausted(live.subscriptionId, then));
      // After the fact, three times each, shuffled.
      await deliverShuffled([...(await fake.renew(late.subscriptionId, "failed")), ...(await fake.retriesExhausted(late.subscriptionId, then))], 5);
      expect((await stripe.subscriptions.retrieve(live.subscriptionId)).status).toBe(then);
      for (const o of [live, late]) {
        const a = await account(o.orgId);
        expect(a).toMatchObject({ tier: "free", status: "active", stripe_subscription_id: null, monthly_analysis_limit: 10, cancel_at_period_end: false });
        expect(a.grant_remaining).toBeLessThanOrEqual(100);
        expect((await call("/api/v1/analysis/submit", { token: o.token, body: submission() })).status).toBe(201);
      }
      const log = await entries(live.orgId);
      expect(log.some((e) => e.type === "plan_changed" && e.description.includes("professional to free"))).toBe(true);
      // Buying a tier again starts a new subscription through Checkout; the ended one is not changed.
      expect(await checkout(live.token, { tier: "starter" })).toMatchObject({ kind: "checkout" });
    });
  }
});

describe("the ledger's grant rule (changePlan with the paying invoice)", () => {
  const NEXT = "2031-02-01T00:00:00Z";
  const END = "2031-03-01T00:00:00Z";

  async function stripeOrg() {
    const org = await subscribedOrg("starter");
    return { ...org, ledger: ledgerFor(env, org.orgId) };
  }

  it("posts a period's grant once, when a change first finds its invoice paid, and never for a stale report", async () => {
    const { orgId, ledger, subscriptionId } = await stripeOrg();
    const base = { orgId, tier: "starter" as const, periodStart: NEXT, periodEnd: END, stripeSubscriptionId: subscriptionId, reason: "test" };
    const t = Date.now();
    await ledger.changePlan({ ...base, opId: `u1-${orgId}`, status: "past_due", invoice: { id: "in_next", paid: false }, sourceTimestamp: t });
    expect(await account(orgId)).toMatchObject({ current_period_start: "2031-02-01T00:00:00Z", grant_remaining: 0, status: "past_due" });
    await ledger.changePlan({ ...base, opId: `u2-${orgId}`, status: "active", invoice: { id: "in_next", paid: true }, sourceTimestamp: t + 2 });
    await ledger.changePlan({ ...base, opId: `u3-${orgId}`, status: "active", invoice: { id: "in_next", paid: true }, sourceTimestamp: t + 3 });
    // A read older than the one applied (the invoice still open then) changes nothing.
    const stale = await ledger.changePlan({ ...base, opId: `u4-${orgId}`, status: "past_due", invoice: { id: "in_next", paid: false }, sourceTimestamp: t + 1 });
    expect(stale.applied).toBe(false);
    expect(await account(orgId)).toMatchObject({ status: "active", grant_remaining: 1000 });
    expect(grants(await entries(orgId)).filter((g) => g.stripe_object_id === "in_next")).toHaveLength(1);
  });

  it("an upgrade's extra grant waits for its invoice; a downgrade's is taken at once", async () => {
    const { orgId, ledger, subscriptionId } = await stripeOrg();
    const a0 = await account(orgId);
    const base = { orgId, periodStart: a0.current_period_start, periodEnd: a0.current_period_end, stripeSubscriptionId: subscriptionId, reason: "test" };
    await ledger.changePlan({ ...base, opId: `up-${orgId}`, tier: "professional", status: "past_due", invoice: { id: "in_proration", paid: false } });
    expect(await account(orgId)).toMatchObject({ tier: "professional", grant_remaining: 1000 });
    await ledger.changePlan({ ...base, opId: `paid-${orgId}`, tier: "professional", status: "active", invoice: { id: "in_proration", paid: true } });
    expect(await account(orgId)).toMatchObject({ tier: "professional", status: "active", grant_remaining: 5000 });
    const upgrade = (await entries(orgId)).at(-1)!;
    expect(upgrade).toMatchObject({ type: "plan_grant", amount: 4000, stripe_object_id: "in_proration" });
    await ledger.changePlan({ ...base, opId: `again-${orgId}`, tier: "professional", status: "active", invoice: { id: "in_proration", paid: true } });
    expect((await account(orgId)).grant_remaining).toBe(5000);
    await ledger.changePlan({ ...base, opId: `down-${orgId}`, tier: "starter", status: "active", invoice: { id: "in_down", paid: false } });
    expect(await account(orgId)).toMatchObject({ tier: "starter", grant_remaining: 1000 });
  });
});

/**
 * Upgrades, downgrades and cancellation through the payments API, the fake Stripe API and the webhook
 * endpoint, each delivered live and again after the fact with every event repeated and shuffled:
 * an upgrade's grant difference at once when paid at once (and only once its invoice is paid when that
 * payment fails); a downgrade and a cancellation at the period's end, shown on the account until then.
 */
import { describe, expect, it } from "vitest";
import { account, checkout, deliver, deliverAll, deliverShuffled, entries, fake, stripe, subscribedOrg, type FakeEvent } from "./support.js";
import { call, json } from "../support/http.js";



type Org = Awaited<ReturnType<typeof subscribedOrg>>;

/** Events for the organization's customer since it subscribed (or since `seen`). */
async function newEvents(org: Org, seen: FakeEvent[] = org.events): Promise<FakeEvent[]> {
  const ids = new Set(seen.map((e) => e.id));
  return (await fake.events(org.customer)).filter((e) => !ids.has(e.id));
}

const FIELDS = ["tier", "status", "grant_remaining", "balance", "cancel_at_period_end", "cancel_at", "pending_tier", "pending_tier_at", "current_period_start", "current_period_end"] as const;
const view = async (orgId: string) => {
  const a = await account(orgId);
  return Object.fromEntries(FIELDS.map((k) => [k, a[k]]));
};

describe("upgrades", () => {
  it("an upgrade paid at once posts the grant difference at once, once, live and shuffled", async () => {
    const [live, late] = [await subscribedOrg("starter"), await subscribedOrg("starter")];
    for (const o of [live, late]) expect(await checkout(o.token, { tier: "professional" })).toMatchObject({ kind: "changed", change: "upgrade" });
    const liveEvents = await newEvents(live);
    expect(liveEvents.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_succeeded", "invoice.paid"]);
    await deliverAll(liveEvents);
    await deliverShuffled(await newEvents(late), 7);
    for (const o of [live, late]) {
      expect(await account(o.orgId)).toMatchObject({ tier: "professional", status: "active", grant_remaining: 5000 });
      const moves = (await entries(o.orgId)).filter((e) => e.grant_amount === 4000);
      expect(moves).toHaveLength(1);
    }
  });

  it("an upgrade whose invoice is not paid: professional and past_due, the difference only once a retry pays it", async () => {
    const [live, late] = [await subscribedOrg("starter"), await subscribedOrg("starter")];
    const flows = new Map<string, FakeEvent[]>();
    for (const o of [live, late]) {
      await fake.cardDeclines(o.customer);
      await checkout(o.token, { tier: "professional" });
      flows.set(o.orgId, await newEvents(o));
    }
    const failed = flows.get(live.orgId)!;
    expect(failed.map((e) => e.type)).toEqual(["customer.subscription.updated", "invoice.payment_failed"]);
    await deliverAll(failed);
    expect(await account(live.orgId)).toMatchObject({ tier: "professional", status: "past_due", grant_remaining: 1000 });
    const changed = (await entries(live.orgId)).at(-1)!;
    expect(changed.description).toMatch(/Plan changed from starter to professional .*plan grant \+4000 once the invoice is paid/);

    for (const o of [live, late]) {
      await fake.cardDeclines(o.customer, false);
      const invoice = flows.get(o.orgId)!.find((e) => e.type === "invoice.payment_failed")!.data.object.id;
      const paid = await fake.attemptInvoice(invoice);
      if (o === live) await deliverAll(paid);
      else await deliverShuffled([...flows.get(o.orgId)!, ...paid], 23);
    }
    for (const o of [live, late]) {
      expect(await account(o.orgId)).toMatchObject({ tier: "professional", status: "active", grant_remaining: 5000 });
      const invoice = flows.get(o.orgId)!.find((e) => e.type === "invoice.payment_failed")!.data.object.id;
      expect((await entries(o.orgId)).filter((e) => e.grant_amount > 0 && e.stripe_object_id === invoice).map((e) => e.grant_amount)).toEqual([4000]);
    }
  });

  it("an upgrade Stripe does not invoice now (prorations on the next invoice) moves the grant at once", async () => {
    const org = await subscribedOrg("starter");
    const sub = await stripe.subscriptions.retrieve(org.subscriptionId);
    await stripe.subscriptions.update(org.subscriptionId, { items: [{ id: sub.items.data[0]!.id, price: "price_professional_monthly" }], proration_behavior: "create_prorations" });
    await deliverShuffled(await newEvents(org), 3);
    expect(await account(org.orgId)).toMatchObject({ tier: "professional", status: "active", grant_remaining: 5000 });
  });
});

describe("changes at the period's end", () => {
  it("a downgrade shows the pending tier and when; the tier, limits and grant change at renewal — live and shuffled", async () => {
    const [live, late] = [await subscribedOrg("professional"), await subscribedOrg("professional")];
    const periodEnd = (await account(live.orgId)).current_period_end;
    const down = await checkout(live.token, { tier: "starter" });
    expect(down).toMatchObject({ kind: "changed", change: "downgrade", effective_at: periodEnd });
    const scheduled = await newEvents(live);
    expect(scheduled.map((e) => e.type)).toEqual(["subscription_schedule.created", "subscription_schedule.updated"]);
    await deliverAll(scheduled);
    expect(await account(live.orgId)).toMatchObject({ tier: "professional", grant_remaining: 5000, pending_tier: "starter", pending_tier_at: periodEnd, cancel_at: null });
    // The base application sees it through the public API.
    expect(await json(await call("/api/v1/billing/subscription", { token: live.token }))).toMatchObject({ tier: "professional", pending_tier: "starter", pending_tier_at: periodEnd, cancel_at: null });

    await checkout(late.token, { tier: "starter" });
    const liveRenewal = await fake.renew(live.subscriptionId);
    const lateRenewal = await fake.renew(late.subscriptionId);
    await deliverAll(liveRenewal);
    await deliverShuffled([...(await newEvents(late, late.events)), ...lateRenewal], 41);
    const expected = { tier: "starter", status: "active", grant_remaining: 1000, pending_tier: null, pending_tier_at: null, current_period_start: periodEnd };
    expect(await account(live.orgId)).toMatchObject(expected);
    expect(await account(late.orgId)).toMatchObject(expected);
    expect(await view(late.orgId)).toEqual(await view(live.orgId));
  });

  it("cancel_at_period_end shows when the subscription ends; undoing it clears that; the period's end returns to free — live and shuffled", async () => {
    const [live, late] = [await subscribedOrg("starter"), await subscribedOrg("starter")];
    const periodEnd = (await account(live.orgId)).current_period_end;
    await stripe.subscriptions.update(live.subscriptionId, { cancel_at_period_end: true });
    await deliverAll(await newEvents(live));
    expect(await account(live.orgId)).toMatchObject({ tier: "starter", cancel_at_period_end: true, cancel_at: periodEnd, pending_tier: null });
    expect(await json(await call("/api/v1/billing/subscription", { token: live.token }))).toMatchObject({ cancel_at_period_end: true, cancel_at: periodEnd, pending_tier: null });
    let seen = await fake.events(live.customer);
    await stripe.subscriptions.update(live.subscriptionId, { cancel_at_period_end: false });
    await deliverAll(await newEvents(live, seen));
    expect(await account(live.orgId)).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    seen = await fake.events(live.customer);
    await stripe.subscriptions.update(live.subscriptionId, { cancel_at_period_end: true });
    await deliverAll(await newEvents(live, seen));
    expect(await account(live.orgId)).toMatchObject({ cancel_at: periodEnd });

    for (const v of [true, false, true]) await stripe.subscriptions.update(late.subscriptionId, { cancel_at_period_end: v });
    const liveEnd = await fake.renew(live.subscriptionId);
    expect(liveEnd.map((e) => e.type)).toEqual(["customer.subscription.deleted"]);
    await deliverAll(liveEnd);
    await fake.renew(late.subscriptionId);
    await deliverShuffled(await newEvents(late), 59);
    for (const o of [live, late]) {
      expect(await account(o.orgId)).toMatchObject({ tier: "free", status: "active", cancel_at_period_end: false, cancel_at: null, stripe_subscription_id: null });
    }
  });
});

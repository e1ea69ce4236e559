/**
 * Stripe delivers events late, more than once and out of order. The same scenario, run for three
 * organizations in lockstep (so their Stripe periods coincide), is delivered three ways:
 *   A — after the fact, in order, once each;
 *   B — after the fact, every event three times, the whole sequence shuffled;
 *   C — live: each step's events delivered as they happen.
 * A and B must end identical: subscription, balances and billing history (the same entries; only the
 * interleaving of independent effects — a pack purchase vs a plan change — may differ, as the
 * balance_after of each entry then does). C must end with the same subscription and balance.
 */
import { describe, expect, it } from "vitest";
import { json } from "../support/http.js";
import type { AccountView, LedgerEntry } from "../../src/ledger/interface.js";
import { account, checkout, customerOf, deliver, deliverAll, entries, fake, newAdmin, processedCount, stripe, type FakeEvent } from "./support.js";

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const SUBSCRIPTION_FIELDS = [
  "tier", "status", "monthly_analysis_limit", "monthly_credit_limit", "current_period_start", "current_period_end",
  "trial_end", "cancel_at_period_end", "current_period_analyses", "current_period_credits_used",
  "balance", "grant_remaining", "purchased_balance", "held", "available",
] as const;
const subscriptionState = (a: AccountView) => Object.fromEntries(SUBSCRIPTION_FIELDS.map((k) => [k, a[k]]));

const normalize = (text: string) => text.replace(/\b(sub|pi|evt|cus|in|cs_test)_\w+/g, "$1_…");
const history = (log: LedgerEntry[]) =>
  log
    .map((e) => JSON.stringify([e.type, e.amount, e.grant_amount, e.purchased_amount, e.held_amount, normalize(e.description), e.stripe_event_id !== null, e.stripe_object_id !== null]))
    .sort();

interface Org {
  token: string;
  orgId: string;
  live: boolean;
  events: FakeEvent[];
  subscriptionId?: string;
}

async function step(org: Org, produce: (o: Org) => Promise<FakeEvent[]>) {
  const events = await produce(org);
  org.events.push(...events);
  if (org.live) await deliverAll(events);
}

async function newEventsSince(org: Org): Promise<FakeEvent[]> {
  const seen = new Set(org.events.map((e) => e.id));
  return (await fake.events(await customerOf(org.orgId))).filter((e) => !seen.has(e.id));
}

/** Subscribe (starter), buy a pack, upgrade, renew, fail a renewal, recover, downgrade at period end, fail a pack payment. */
async function runScenario(orgs: Org[]) {
  // Steps run in lockstep but one organization at a time within a step, so the fake's clock is shared.
  const seq = async (f: (o: Org) => Promise<FakeEvent[]>) => {
    for (const o of orgs) await step(o, f);
  };
  await seq(async (o) => {
    const s = await checkout(o.token, { tier: "starter" });
    const ev = await fake.completeCheckout(s.session_id);
    o.subscriptionId = ev.find((e) => e.type === "customer.subscription.created")!.data.object.id;
    return ev;
  });
  await seq(async (o) => fake.completeCheckout((await checkout(o.token, { pack: "pack_1000" })).session_id));
  await seq(async (o) => {
    await checkout(o.token, { tier: "professional" });
    return newEventsSince(o);
  });
  await seq((o) => fake.renew(o.subscriptionId!));
  await seq((o) => fake.renew(o.subscriptionId!, "failed"));
  await seq((o) => fake.renew(o.subscriptionId!));
  await seq(async (o) => {
    await checkout(o.token, { tier: "starter" });
    return fake.renew(o.subscriptionId!);
  });
  await seq(async (o) => fake.completeCheckout((await checkout(o.token, { pack: "pack_5000" })).session_id, "failed"));
}

describe("out-of-order and duplicated delivery", () => {
  it("ends in the same subscription, balance and history as in-order delivery", async () => {
    const mk = async (live: boolean): Promise<Org> => ({ ...(await newAdmin()), live, events: [] });
    const A = await mk(false);
    const B = await mk(false);
    const C = await mk(true);
    await runScenario([A, B, C]);
    expect(A.events.map((e) => e.type)).toEqual(C.events.map((e) => e.type));
    expect(A.events.length).toBeGreaterThan(15);

    await deliverAll(A.events);

    const tripled = shuffled([...B.events, ...B.events, ...B.events], 20261125);
    expect(tripled.map((e) => e.id)).not.toEqual([...B.events, ...B.events, ...B.events].map((e) => e.id));
    const outcomes: Record<string, string[]> = {};
    for (const e of tripled) {
      const res = await deliver(e);
      expect(res.status, `${e.type} ${e.id}`).toBe(200);
      (outcomes[e.id] ??= []).push((await json(res)).outcome);
    }
    for (const e of B.events) {
      expect(outcomes[e.id]!.filter((o) => o === "duplicate"), e.type).toHaveLength(2);
      expect(await processedCount(e.id)).toBe(1);
    }

    const [a, b, c] = await Promise.all([account(A.orgId), account(B.orgId), account(C.orgId)]);
    const expected = {
      tier: "starter",
      status: "active",
      cancel_at_period_end: false,
      purchased_balance: 1000,
      grant_remaining: 1000,
      balance: 2000,
    };
    expect(a).toMatchObject(expected);
    const sub = await stripe.subscriptions.retrieve(A.subscriptionId!);
    expect(a.current_period_start).toBe(new Date(sub.items.data[0]!.current_period_start * 1000).toISOString().replace(".000", ""));
    expect(subscriptionState(b)).toEqual(subscriptionState(a));
    expect(subscriptionState(c)).toEqual(subscriptionState(a));

    const [la, lb] = await Promise.all([entries(A.orgId), entries(B.orgId)]);
    expect(history(lb)).toEqual(history(la));
    expect(la.at(-1)!.balance_after).toBe(a.balance);
    expect(lb.at(-1)!.balance_after).toBe(b.balance);
    expect(la.filter((e) => e.type === "credit_purchased")).toHaveLength(1);
    // The failed pack payment is in the history once, moving nothing.
    expect(la.filter((e) => e.type === "credit_purchase_failed").map((e) => e.amount)).toEqual([0]);
  });

  it("concurrent duplicate deliveries of a pack payment credit it once", async () => {
    const { token, orgId } = await newAdmin();
    const events = await fake.completeCheckout((await checkout(token, { pack: "pack_1000" })).session_id);
    const all = [...events, ...events, ...events];
    const results = await Promise.all(all.map((e) => deliver(e)));
    for (const r of results) expect(r.status).toBe(200);
    expect((await account(orgId)).purchased_balance).toBe(1000);
    expect((await entries(orgId)).filter((e) => e.type === "credit_purchased")).toHaveLength(1);
  });
});

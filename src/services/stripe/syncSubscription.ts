import type { Config } from "../../env.js";
import { ledgerFor } from "../../ledger/client.js";
import type { SubscriptionStatus } from "../../lib/tiers.js";
import { iso } from "../../lib/time.js";
import { log } from "../../lib/log.js";
import { callStripe, type Stripe } from "./client.js";
import { tierForPrice } from "./catalog.js";
import type { EventOutcome } from "./outcome.js";

const STATUS: Record<string, SubscriptionStatus> = {
  active: "active",
  trialing: "trialing",
  past_due: "past_due",
  unpaid: "unpaid",
  paused: "paused",
  incomplete: "incomplete",
  canceled: "canceled",
  incomplete_expired: "canceled",
};

/**
 * Brings the organization's plan in line with the subscription as Stripe holds it NOW. Every
 * subscription-related event (checkout completed, subscription created/updated/deleted, invoice paid
 * or failed) re-reads the subscription instead of trusting the event's snapshot, so duplicated,
 * delayed or reordered deliveries all converge on Stripe's current state; the read time is the
 * ledger's ordering key, so a slower concurrent handler holding an older read cannot overwrite a newer one.
 */
export async function syncSubscription(args: {
  env: Env;
  config: Config;
  stripe: Stripe;
  orgId: string;
  subscriptionId: string;
  event: Stripe.Event;
}): Promise<EventOutcome> {
  const { env, config, stripe, orgId, subscriptionId, event } = args;
  const sub = await callStripe("read the subscription", () => stripe.subscriptions.retrieve(subscriptionId));
  const readAt = Date.now();
  const ledger = ledgerFor(env, orgId);
  const account = await ledger.getAccount(orgId);
  const status = STATUS[sub.status] ?? "incomplete";
  // The reason names the subscription, not the event that triggered the read: any of its events yields the same entry.
  const base = { orgId, opId: `stripe:${event.id}`, sourceTimestamp: readAt, stripeEventId: event.id, stripeObjectId: sub.id, reason: `Stripe subscription ${sub.id}` };

  if (status === "canceled") {
    if (account.stripe_subscription_id !== sub.id) {
      return { outcome: "ignored", orgId, detail: `subscription ${sub.id} has ended but is not the organization's current one` };
    }
    const r = await ledger.changePlan({ ...base, tier: "free", status: "active", stripeSubscriptionId: null, cancelAtPeriodEnd: false, trialEnd: null });
    return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `subscription ${sub.id} ended: back to the free tier` };
  }

  const item = sub.items.data[0];
  const tier = tierForPrice(config, item?.price.id);
  if (!item || !tier) {
    log("error", "stripe subscription has a price this service does not sell", { event_id: event.id, subscription: sub.id, price: item?.price.id ?? null });
    return { outcome: "ignored", orgId, detail: `price ${item?.price.id ?? "(none)"} is not a configured tier` };
  }
  const r = await ledger.changePlan({
    ...base,
    tier,
    status,
    periodStart: iso(item.current_period_start * 1000),
    periodEnd: iso(item.current_period_end * 1000),
    trialEnd: sub.trial_end ? iso(sub.trial_end * 1000) : null,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    stripeSubscriptionId: sub.id,
  });
  return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `${tier} (${status}) until ${iso(item.current_period_end * 1000)}` };
}

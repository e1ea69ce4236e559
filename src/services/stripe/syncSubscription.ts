import type { Config } from "../../env.js";
import { ledgerFor } from "../../ledger/client.js";
import type { SubscriptionStatus } from "../../lib/tiers.js";
import { iso } from "../../lib/time.js";
import { log } from "../../lib/log.js";
import { callStripe, type Stripe } from "./client.js";
import { tierForPrice, type PaidTier } from "./catalog.js";
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

/** Statuses in which Stripe has stopped collecting: the organization is back on the free tier. */
const ENDED: ReadonlySet<string> = new Set(["canceled", "incomplete_expired", "unpaid"]);

/**
 * Brings the organization's plan in line with the subscription as Stripe holds it NOW. Every
 * subscription-related event (checkout completed, subscription created/updated/deleted, invoice paid
 * or failed) re-reads the subscription instead of trusting the event's snapshot, so duplicated,
 * delayed or reordered deliveries all converge on Stripe's current state; the read time is the
 * ledger's ordering key, so a slower concurrent handler holding an older read cannot overwrite a newer one.
 *
 * The plan grant follows payment: the subscription's latest invoice is read too, and the ledger posts
 * a period's grant (or an upgrade's difference) only once that invoice is paid — by whichever event
 * first finds it so, `invoice.paid` or a `customer.subscription.updated` delivered after it.
 * When Stripe's retries end (`canceled`, or `unpaid` where the account's settings keep the
 * subscription), the organization returns to the free tier.
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

  if (ENDED.has(sub.status)) {
    if (account.stripe_subscription_id !== sub.id) {
      return { outcome: "ignored", orgId, detail: `subscription ${sub.id} has ended (${sub.status}) but is not the organization's current one` };
    }
    const r = await ledger.changePlan({ ...base, tier: "free", status: "active", stripeSubscriptionId: null, cancelAtPeriodEnd: false, trialEnd: null, pendingChange: null });
    return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `subscription ${sub.id} ended (${sub.status}): back to the free tier` };
  }

  const item = sub.items.data[0];
  const tier = tierForPrice(config, item?.price.id);
  if (!item || !tier) {
    log("error", "stripe subscription has a price this service does not sell", { event_id: event.id, subscription: sub.id, price: item?.price.id ?? null });
    return { outcome: "ignored", orgId, detail: `price ${item?.price.id ?? "(none)"} is not a configured tier` };
  }
  const invoice = await latestInvoice(stripe, sub);
  const pendingChange = await scheduledChange(stripe, config, sub, item.current_period_end, tier);
  const r = await ledger.changePlan({
    ...base,
    tier,
    status,
    periodStart: iso(item.current_period_start * 1000),
    periodEnd: iso(item.current_period_end * 1000),
    trialEnd: sub.trial_end ? iso(sub.trial_end * 1000) : null,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    pendingChange,
    stripeSubscriptionId: sub.id,
    ...(invoice ? { invoice } : {}),
  });
  const paid = invoice ? `, invoice ${invoice.id} ${invoice.paid ? "paid" : "not paid"}` : "";
  return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `${tier} (${status}) until ${iso(item.current_period_end * 1000)}${paid}` };
}

/**
 * The subscription's latest invoice (the one paying for the plan as it stands) and whether it is
 * paid: `status` "paid" (paid by a charge, out of band, or a zero-amount trial invoice). Read from
 * Stripe, as the subscription is, rather than taken from the event.
 */
async function latestInvoice(stripe: Stripe, sub: Stripe.Subscription): Promise<{ id: string; paid: boolean } | null> {
  const ref = sub.latest_invoice;
  if (!ref) return null;
  const invoice = typeof ref === "string" ? await callStripe("read the latest invoice", () => stripe.invoices.retrieve(ref)) : ref;
  if (!invoice.id) return null;
  return { id: invoice.id, paid: invoice.status === "paid" };
}

/**
 * A tier change Stripe will make later: the subscription schedule's phase that starts once the current
 * period ends (a downgrade is scheduled so), with its tier and start. Null without a schedule, or when
 * the next phase keeps the tier.
 */
async function scheduledChange(stripe: Stripe, config: Config, sub: Stripe.Subscription, periodEnd: number, current: PaidTier): Promise<{ tier: PaidTier; at: string } | null> {
  const ref = sub.schedule;
  if (!ref) return null;
  const schedule = typeof ref === "string" ? await callStripe("read the subscription schedule", () => stripe.subscriptionSchedules.retrieve(ref)) : ref;
  if (schedule.status !== "active" && schedule.status !== "not_started") return null;
  const next = schedule.phases.filter((p) => p.start_date >= periodEnd).sort((a, b) => a.start_date - b.start_date)[0];
  const price = next?.items[0]?.price;
  const tier = tierForPrice(config, typeof price === "string" ? price : price?.id);
  if (!next || !tier || tier === current) return null;
  return { tier, at: iso(next.start_date * 1000) };
}

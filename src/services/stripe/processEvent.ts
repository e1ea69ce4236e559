/**
 * Applies one verified Stripe event. Exactly once: the D1 table processed_stripe_events answers
 * duplicates cheaply, and every effect goes through a ledger method whose op id (the event id, or the
 * payment intent id for credit packs) is recorded in the same Durable Object transaction as the
 * effect — so a crash between the effect and the D1 record is harmless: the redelivery is a no-op.
 * Any failure propagates (the route answers 5xx and Stripe retries).
 */
import type { Config } from "../../env.js";
import type { Database } from "../../db/client.js";
import { log } from "../../lib/log.js";
import { callStripe, type Stripe } from "./client.js";
import { orgForCustomer } from "./ensureCustomer.js";
import { syncSubscription } from "./syncSubscription.js";
import { creditPack, packFromMetadata, recordFailedPack, reversePack } from "./creditPack.js";
import type { EventOutcome } from "./outcome.js";
import { markStripeEventProcessed, stripeEventSeen } from "../../db/stripe-events.js";

export type { EventOutcome };

interface Ctx {
  env: Env;
  db: Database;
  config: Config;
  stripe: Stripe;
}

export async function processStripeEvent(ctx: Ctx & { event: Stripe.Event }): Promise<EventOutcome> {
  const { db, event } = ctx;
  const seen = await stripeEventSeen(db, event.id);
  if (seen) return { outcome: "duplicate", orgId: seen.organizationId, detail: `already processed at ${seen.processedAt}` };
  const result = await applyEvent(ctx, event);
  await markStripeEventProcessed(db, event, result.orgId);
  log(result.outcome === "ignored" ? "warn" : "info", "stripe event processed", {
    event_id: event.id,
    type: event.type,
    organization_id: result.orgId,
    outcome: result.outcome,
    detail: result.detail,
  });
  return result;
}

const customerId = (c: string | { id: string } | null | undefined) => (typeof c === "string" ? c : (c?.id ?? null));

async function resolveOrg(ctx: Ctx, customer: string | null, claimed: string | undefined): Promise<{ orgId: string } | EventOutcome> {
  const orgId = customer ? await orgForCustomer(ctx.db, customer) : null;
  if (!orgId) return { outcome: "ignored", orgId: null, detail: `customer ${customer ?? "(none)"} is not linked to an organization` };
  if (claimed && claimed !== orgId) {
    log("error", "stripe object metadata names another organization than its customer", { customer, claimed, organization_id: orgId });
    return { outcome: "ignored", orgId, detail: "metadata organization does not match the customer's organization" };
  }
  return { orgId };
}

async function applyEvent(ctx: Ctx, event: Stripe.Event): Promise<EventOutcome> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      const session = event.data.object;
      const org = await resolveOrg(ctx, customerId(session.customer), session.metadata?.organization_id ?? undefined);
      if ("outcome" in org) return org;
      if (session.mode === "subscription") {
        const sub = customerId(session.subscription);
        if (!sub) return { outcome: "ignored", orgId: org.orgId, detail: "subscription checkout without a subscription" };
        return syncSubscription({ ...ctx, orgId: org.orgId, subscriptionId: sub, event });
      }
      const pack = packFromMetadata(session.metadata);
      const pi = customerId(session.payment_intent);
      if (session.mode !== "payment" || !pack || !pi) return { outcome: "ignored", orgId: org.orgId, detail: "not a credit pack checkout" };
      if (session.payment_status !== "paid") return { outcome: "ignored", orgId: org.orgId, detail: `payment ${session.payment_status}` };
      return creditPack({ env: ctx.env, orgId: org.orgId, paymentIntentId: pi, pack, amountPaid: session.amount_total ?? 0, currency: session.currency ?? "usd", event });
    }
    case "checkout.session.async_payment_failed": {
      // An asynchronous method (a bank debit) for a pack failed after Checkout completed.
      const session = event.data.object;
      const pack = packFromMetadata(session.metadata);
      const pi = customerId(session.payment_intent);
      if (session.mode !== "payment" || !pack || !pi) return { outcome: "ignored", orgId: null, detail: "not a credit pack checkout" };
      const org = await resolveOrg(ctx, customerId(session.customer), pack.orgId);
      if ("outcome" in org) return org;
      const intent = await callStripe("read the payment", () => ctx.stripe.paymentIntents.retrieve(pi));
      return recordFailedPack({ env: ctx.env, orgId: org.orgId, paymentIntentId: pi, pack, currency: session.currency ?? intent.currency, reason: intent.last_payment_error?.message ?? null, event });
    }
    case "payment_intent.succeeded":
    case "payment_intent.payment_failed": {
      const pi = event.data.object;
      const pack = packFromMetadata(pi.metadata);
      // Only credit packs are ours to act on; subscription payments arrive as invoice events.
      if (!pack) return { outcome: "ignored", orgId: null, detail: "payment intent is not a credit pack" };
      const org = await resolveOrg(ctx, customerId(pi.customer), pack.orgId);
      if ("outcome" in org) return org;
      if (event.type === "payment_intent.payment_failed") {
        return recordFailedPack({ env: ctx.env, orgId: org.orgId, paymentIntentId: pi.id, pack, currency: pi.currency, reason: pi.last_payment_error?.message ?? null, event });
      }
      return creditPack({ env: ctx.env, orgId: org.orgId, paymentIntentId: pi.id, pack, amountPaid: pi.amount_received, currency: pi.currency, event });
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted":
    case "customer.subscription.paused":
    case "customer.subscription.resumed": {
      const sub = event.data.object;
      const org = await resolveOrg(ctx, customerId(sub.customer), sub.metadata?.organization_id ?? undefined);
      if ("outcome" in org) return org;
      return syncSubscription({ ...ctx, orgId: org.orgId, subscriptionId: sub.id, event });
    }
    case "subscription_schedule.created":
    case "subscription_schedule.updated":
    case "subscription_schedule.released":
    case "subscription_schedule.canceled": {
      // A scheduled change (a downgrade at the period's end) was made, changed or dropped: show it.
      const schedule = event.data.object;
      const sub = customerId(schedule.subscription) ?? schedule.released_subscription;
      const org = await resolveOrg(ctx, customerId(schedule.customer), undefined);
      if ("outcome" in org) return org;
      if (!sub) return { outcome: "ignored", orgId: org.orgId, detail: "schedule without a subscription" };
      return syncSubscription({ ...ctx, orgId: org.orgId, subscriptionId: sub, event });
    }
    case "invoice.payment_succeeded":
    case "invoice.paid":
    case "invoice.payment_failed": {
      const invoice = event.data.object;
      const sub = customerId(invoice.parent?.subscription_details?.subscription);
      const org = await resolveOrg(ctx, customerId(invoice.customer), undefined);
      if ("outcome" in org) return org;
      if (!sub) return { outcome: "ignored", orgId: org.orgId, detail: "invoice is not for a subscription" };
      return syncSubscription({ ...ctx, orgId: org.orgId, subscriptionId: sub, event });
    }
    case "charge.refunded": {
      const charge = event.data.object;
      const pi = customerId(charge.payment_intent);
      if (!pi) return { outcome: "ignored", orgId: null, detail: `charge ${charge.id} has no payment intent` };
      const resolve = (customer: string | null, claimed: string) => resolveOrg(ctx, customer, claimed);
      return reversePack({ env: ctx.env, stripe: ctx.stripe, kind: "refund", chargeId: charge.id, paymentIntentId: pi, amount: charge.amount_refunded, event, resolveOrg: resolve });
    }
    case "charge.dispute.created": {
      const dispute = event.data.object;
      const charge = customerId(dispute.charge);
      const pi = customerId(dispute.payment_intent);
      if (!pi || !charge) return { outcome: "ignored", orgId: null, detail: `dispute ${dispute.id} has no payment intent` };
      const resolve = (customer: string | null, claimed: string) => resolveOrg(ctx, customer, claimed);
      return reversePack({ env: ctx.env, stripe: ctx.stripe, kind: "dispute", chargeId: charge, disputeId: dispute.id, paymentIntentId: pi, amount: dispute.amount, event, resolveOrg: resolve });
    }
    default:
      return { outcome: "ignored", orgId: null, detail: `event type ${event.type} is not handled` };
  }
}

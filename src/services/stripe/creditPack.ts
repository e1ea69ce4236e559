import { ledgerFor } from "../../ledger/client.js";
import { log } from "../../lib/log.js";
import { callStripe, type Stripe } from "./client.js";
import { formatMoney } from "./catalog.js";
import type { EventOutcome } from "./outcome.js";

/** Metadata the Checkout session and its payment intent carry for a credit pack (set by purchaseCredits). */
export function packFromMetadata(metadata: Stripe.Metadata | null | undefined) {
  if (!metadata || metadata.kind !== "credit_pack") return null;
  const credits = Number(metadata.credits);
  const amountCents = Number(metadata.amount_cents);
  if (!metadata.organization_id || !metadata.pack_id || !Number.isSafeInteger(credits) || credits <= 0 || !Number.isSafeInteger(amountCents)) return null;
  return { orgId: metadata.organization_id, packId: metadata.pack_id, credits, amountCents };
}

/**
 * Credits a paid pack exactly once. The ledger op id is the payment intent's id, so the pack is
 * credited once although both checkout.session.completed and payment_intent.succeeded report it.
 */
export async function creditPack(args: {
  env: Env;
  orgId: string;
  paymentIntentId: string;
  pack: NonNullable<ReturnType<typeof packFromMetadata>>;
  amountPaid: number;
  currency: string;
  event: Stripe.Event;
}): Promise<EventOutcome> {
  const { env, orgId, paymentIntentId, pack, event } = args;
  if (args.amountPaid < pack.amountCents) {
    log("error", "credit pack paid less than its price; not credited", { event_id: event.id, payment_intent: paymentIntentId, paid: args.amountPaid, price: pack.amountCents });
    return { outcome: "ignored", orgId, detail: `payment ${paymentIntentId} paid ${args.amountPaid}, pack costs ${pack.amountCents}` };
  }
  const r = await ledgerFor(env, orgId).credit({
    orgId,
    opId: `credit_pack:${paymentIntentId}`,
    credits: pack.credits,
    type: "credit_purchased",
    description: `Purchased ${pack.credits} credits for ${formatMoney(pack.amountCents, args.currency)}`,
    stripeEventId: event.id,
    stripeObjectId: paymentIntentId,
  });
  return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `${pack.credits} credits (${pack.packId}) for ${paymentIntentId}` };
}

/**
 * A credit pack's payment failed (a declined card, or an asynchronous method that failed later): a
 * billing event of its own that moves no credits, once per payment intent, so the billing history
 * shows what happened to the purchase. Both `payment_intent.payment_failed` and
 * `checkout.session.async_payment_failed` report it; they record it once.
 */
export async function recordFailedPack(args: {
  env: Env;
  orgId: string;
  paymentIntentId: string;
  pack: NonNullable<ReturnType<typeof packFromMetadata>>;
  currency: string;
  reason: string | null;
  event: Stripe.Event;
}): Promise<EventOutcome> {
  const { env, orgId, paymentIntentId, pack, event } = args;
  const price = formatMoney(pack.amountCents, args.currency);
  const r = await ledgerFor(env, orgId).record({
    orgId,
    opId: `credit_pack_failed:${paymentIntentId}`,
    type: "credit_purchase_failed",
    description: `Payment for ${pack.credits} credits (${price}) failed; nothing credited${args.reason ? ` (${args.reason.replace(/\.$/, "")})` : ""}`,
    stripeEventId: event.id,
    stripeObjectId: paymentIntentId,
  });
  return { outcome: r.applied ? "applied" : "unchanged", orgId, detail: `credit pack payment ${paymentIntentId} failed: recorded, nothing credited` };
}

/**
 * A credit pack's charge was refunded (`charge.refunded`, `amount_refunded` cumulative) or disputed
 * (`charge.dispute.created`, the disputed `amount`): the ledger takes back the credits that amount
 * stands for, as far as they are unspent, and records the rest. The pack is identified by its payment
 * intent's metadata, re-read from Stripe; the pack is credited first if its purchase events have not
 * arrived yet (the same op id as theirs, so it is credited once), so a refund delivered before the
 * purchase converges too.
 */
export async function reversePack(args: {
  env: Env;
  stripe: Stripe;
  kind: "refund" | "dispute";
  chargeId: string;
  disputeId?: string;
  paymentIntentId: string;
  /** The refunded (cumulative) or disputed amount, in the smallest currency unit. */
  amount: number;
  event: Stripe.Event;
  resolveOrg: (customer: string | null, claimed: string) => Promise<{ orgId: string } | EventOutcome>;
}): Promise<EventOutcome> {
  const { env, stripe, chargeId, paymentIntentId, event } = args;
  const pi = await callStripe("read the payment", () => stripe.paymentIntents.retrieve(paymentIntentId));
  const pack = packFromMetadata(pi.metadata);
  if (!pack) return { outcome: "ignored", orgId: null, detail: `charge ${chargeId} is not for a credit pack` };
  const org = await args.resolveOrg(typeof pi.customer === "string" ? pi.customer : (pi.customer?.id ?? null), pack.orgId);
  if ("outcome" in org) return org;
  const { orgId } = org;
  if (pi.status === "succeeded") {
    await creditPack({ env, orgId, paymentIntentId, pack, amountPaid: pi.amount_received, currency: pi.currency, event });
  }
  const paid = pi.amount_received;
  const credits = paid > 0 ? Math.min(pack.credits, Math.round((pack.credits * Math.max(0, args.amount)) / paid)) : 0;
  const money = formatMoney(args.amount, pi.currency);
  const what = args.kind === "refund" ? `Refund of charge ${chargeId} (${money} refunded in all)` : `Dispute ${args.disputeId} of charge ${chargeId} (${money} disputed)`;
  const r = await ledgerFor(env, orgId).reverseCredits({ orgId, opId: `stripe:${event.id}`, paymentIntentId, chargeId, credits, what, stripeEventId: event.id });
  if (r.shortfall > 0) {
    log("warn", "credit pack reversal could not take back every credit", { event_id: event.id, charge: chargeId, organization_id: orgId, taken: r.taken, shortfall: r.shortfall });
  }
  return {
    outcome: r.applied ? "applied" : "unchanged",
    orgId,
    detail: `${args.kind} of ${chargeId}: took back ${r.taken} credits${r.shortfall ? `, ${r.shortfall} not recoverable` : ""}`,
  };
}

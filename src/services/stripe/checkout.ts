/**
 * Starting a purchase. No card data ever reaches this service: new subscriptions and credit packs go
 * through Stripe Checkout; a change of tier on an existing subscription is made on the subscription
 * itself — an upgrade at once (Stripe prorates and invoices the difference now), a downgrade at the
 * end of the paid period (a subscription schedule whose next phase has the lower price).
 */
import type { Config } from "../../env.js";
import type { Database } from "../../db/client.js";
import { ApiError } from "../../errors/api-error.js";
import { getTier, type TierName } from "../../lib/tiers.js";
import { iso } from "../../lib/time.js";
import type { AccountView } from "../../ledger/interface.js";
import { callStripe, type Stripe } from "./client.js";
import { findPack, formatMoney, priceForTier, tierForPrice } from "./catalog.js";
import { eq } from "drizzle-orm";
import { schema } from "../../db/client.js";
import { ensureStripeCustomer } from "./ensureCustomer.js";

export type PurchaseResult =
  | { kind: "checkout"; url: string; session_id: string }
  | { kind: "changed"; change: "upgrade" | "downgrade"; tier: TierName; effective_at: string; message: string };

interface Ctx {
  db: Database;
  config: Config;
  stripe: Stripe;
  orgId: string;
  /** Validated origin-relative return target carried through to the success/cancel pages. */
  returnTo?: string | null;
}

/** Subscribe to (or change to) a paid tier. */
export async function purchaseTier(ctx: Ctx & { account: AccountView; tier: TierName }): Promise<PurchaseResult> {
  const { config, stripe, orgId, tier, account } = ctx;
  const price = priceForTier(config, tier);
  if (!price) {
    throw new ApiError("VALIDATION_ERROR", `The ${tier} tier cannot be bought online`, { tier, available: paidTiers(config) });
  }
  // The ledger learns of a subscription from webhooks, which may lag: ask Stripe before starting a
  // second subscription for the same customer.
  const linked = account.stripe_subscription_id && account.status !== "canceled" ? { id: account.stripe_subscription_id, tier: account.tier } : await liveSubscription(ctx);
  if (!linked) {
    const customer = await ensureStripeCustomer(ctx);
    const metadata = { organization_id: orgId, tier };
    const session = await callStripe("start a subscription checkout", () =>
      stripe.checkout.sessions.create({
        mode: "subscription",
        customer,
        client_reference_id: orgId,
        line_items: [{ price, quantity: 1 }],
        metadata,
        subscription_data: { metadata },
        success_url: resultUrl(config, "success", ctx.returnTo, true),
        cancel_url: resultUrl(config, "cancel", ctx.returnTo, false),
      }),
    );
    if (!session.url) throw new ApiError("EXTERNAL_SERVICE_ERROR", "Stripe returned a Checkout session without a URL");
    return { kind: "checkout", url: session.url, session_id: session.id };
  }
  if (linked.tier === tier) throw new ApiError("RESOURCE_CONFLICT", `The organization is already on the ${tier} tier`, { tier });
  return changeSubscriptionTier({ ...ctx, subscriptionId: linked.id, tier, price, current: linked.tier });
}

/** The customer's current (not ended) subscription as Stripe holds it, if the organization has a customer. */
async function liveSubscription(ctx: Ctx): Promise<{ id: string; tier: TierName } | null> {
  const [org] = await ctx.db.select().from(schema.organizations).where(eq(schema.organizations.id, ctx.orgId)).limit(1);
  if (!org?.stripeCustomerId) return null;
  const customer = org.stripeCustomerId;
  const subs = await callStripe("list subscriptions", () => ctx.stripe.subscriptions.list({ customer, status: "all", limit: 10 }));
  // An unpaid subscription is over for this service (the organization went back to Free when Stripe's
  // retries ended): a new purchase starts a new subscription rather than changing that one.
  const live = subs.data.find((s) => !["canceled", "incomplete_expired", "unpaid"].includes(s.status));
  if (!live) return null;
  return { id: live.id, tier: tierForPrice(ctx.config, live.items.data[0]?.price.id) ?? "free" };
}

/** Buy a credit pack through Checkout (mode=payment). The pack and organization travel in metadata. */
export async function purchaseCredits(ctx: Ctx & { packId: string }): Promise<PurchaseResult> {
  const pack = findPack(ctx.config, ctx.packId);
  if (!pack) {
    throw new ApiError("VALIDATION_ERROR", `Unknown credit pack ${ctx.packId}`, { pack: ctx.packId, available: ctx.config.STRIPE_CREDIT_PACKS.map((p) => p.id) });
  }
  const customer = await ensureStripeCustomer(ctx);
  const metadata = {
    kind: "credit_pack",
    organization_id: ctx.orgId,
    pack_id: pack.id,
    credits: String(pack.credits),
    amount_cents: String(pack.amount_cents),
  };
  const session = await callStripe("start a credit checkout", () =>
    ctx.stripe.checkout.sessions.create({
      mode: "payment",
      customer,
      client_reference_id: ctx.orgId,
      line_items: [{ price: pack.price, quantity: 1 }],
      metadata,
      payment_intent_data: { metadata, description: `${pack.credits} VEXxy credits (${formatMoney(pack.amount_cents, pack.currency)})` },
      success_url: resultUrl(ctx.config, "success", ctx.returnTo, true),
      cancel_url: resultUrl(ctx.config, "cancel", ctx.returnTo, false),
    }),
  );
  if (!session.url) throw new ApiError("EXTERNAL_SERVICE_ERROR", "Stripe returned a Checkout session without a URL");
  return { kind: "checkout", url: session.url, session_id: session.id };
}

/** A Stripe customer portal session (payment methods, invoices, cancellation). */
export async function openPortal(ctx: Ctx): Promise<{ url: string }> {
  const customer = await ensureStripeCustomer(ctx);
  const session = await callStripe("open the billing portal", () =>
    ctx.stripe.billingPortal.sessions.create({ customer, return_url: `${ctx.config.PUBLIC_BASE_URL}/billing` }),
  );
  return { url: session.url };
}

async function changeSubscriptionTier(
  ctx: Ctx & { subscriptionId: string; tier: TierName; price: string; current: TierName },
): Promise<PurchaseResult> {
  const { stripe, subscriptionId, price, tier } = ctx;
  const sub = await callStripe("read the subscription", () => stripe.subscriptions.retrieve(subscriptionId));
  const item = sub.items.data[0];
  if (!item) throw new ApiError("EXTERNAL_SERVICE_ERROR", "The Stripe subscription has no items");
  const scheduleId = typeof sub.schedule === "string" ? sub.schedule : (sub.schedule?.id ?? null);
  const upgrade = getTier(tier).priority > getTier(ctx.current).priority;
  if (upgrade) {
    // A pending downgrade is superseded by the upgrade.
    if (scheduleId) await callStripe("release the pending change", () => stripe.subscriptionSchedules.release(scheduleId));
    await callStripe("upgrade the subscription", () =>
      stripe.subscriptions.update(
        subscriptionId,
        { items: [{ id: item.id, price }], proration_behavior: "always_invoice", metadata: { organization_id: ctx.orgId, tier } },
        { idempotencyKey: `vexxy-upgrade-${subscriptionId}-${item.price.id}-${price}` },
      ),
    );
    return {
      kind: "changed",
      change: "upgrade",
      tier,
      effective_at: iso(Date.now()),
      message: `Upgrade to ${tier} requested: it applies as soon as Stripe confirms the prorated payment.`,
    };
  }
  const periodEnd = item.current_period_end;
  const schedule = scheduleId
    ? await callStripe("read the subscription schedule", () => stripe.subscriptionSchedules.retrieve(scheduleId))
    : await callStripe("schedule the downgrade", () =>
        stripe.subscriptionSchedules.create({ from_subscription: subscriptionId }, { idempotencyKey: `vexxy-schedule-${subscriptionId}-${periodEnd}` }),
      );
  const startDate = schedule.phases[0]?.start_date ?? item.current_period_start;
  await callStripe("schedule the downgrade", () =>
    stripe.subscriptionSchedules.update(schedule.id, {
      end_behavior: "release",
      phases: [
        { items: [{ price: item.price.id, quantity: 1 }], start_date: startDate, end_date: periodEnd },
        { items: [{ price, quantity: 1 }], duration: { interval: "month", interval_count: 1 }, metadata: { organization_id: ctx.orgId, tier } },
      ],
    }),
  );
  return {
    kind: "changed",
    change: "downgrade",
    tier,
    effective_at: iso(periodEnd * 1000),
    message: `Downgrade to ${tier} scheduled: it takes effect at the end of the paid period (${iso(periodEnd * 1000)}).`,
  };
}

export function paidTiers(config: Config): TierName[] {
  return (["starter", "professional", "enterprise"] as const).filter((t) => priceForTier(config, t));
}

function resultUrl(config: Config, page: "success" | "cancel", returnTo: string | null | undefined, withSession: boolean): string {
  const params: string[] = [];
  // Stripe substitutes the literal {CHECKOUT_SESSION_ID}; it must not be percent-encoded.
  if (withSession) params.push("session_id={CHECKOUT_SESSION_ID}");
  if (returnTo) params.push(`return_to=${encodeURIComponent(returnTo)}`);
  return `${config.PUBLIC_BASE_URL}/billing/${page}${params.length ? `?${params.join("&")}` : ""}`;
}

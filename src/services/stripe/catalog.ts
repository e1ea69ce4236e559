/** What is for sale: paid tiers and credit packs, each mapped to a Stripe price id from configuration. */
import type { Config, CreditPack } from "../../env.js";
import type { TierName } from "../../lib/tiers.js";

export type PaidTier = Exclude<TierName, "free">;

export function priceForTier(config: Config, tier: TierName): string | null {
  switch (tier) {
    case "starter":
      return config.STRIPE_PRICE_STARTER;
    case "professional":
      return config.STRIPE_PRICE_PROFESSIONAL;
    case "enterprise":
      return config.STRIPE_PRICE_ENTERPRISE;
    default:
      return null;
  }
}

/** The tier a subscription price stands for; null for a price this service does not sell. */
export function tierForPrice(config: Config, priceId: string | null | undefined): PaidTier | null {
  if (!priceId) return null;
  if (priceId === config.STRIPE_PRICE_STARTER) return "starter";
  if (priceId === config.STRIPE_PRICE_PROFESSIONAL) return "professional";
  if (priceId === config.STRIPE_PRICE_ENTERPRISE) return "enterprise";
  return null;
}

export function findPack(config: Config, packId: string): CreditPack | null {
  return config.STRIPE_CREDIT_PACKS.find((p) => p.id === packId) ?? null;
}

/** "$100.00" */
export function formatMoney(cents: number, currency = "usd"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(cents / 100);
}

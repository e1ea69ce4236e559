/** The spec's four tiers (§1.5): limits, priority and features. Enterprise limits are null (unmetered). */
export const TIER_NAMES = ["free", "starter", "professional", "enterprise"] as const;
export type TierName = (typeof TIER_NAMES)[number];

export const FEATURES = [
  "basic_analysis",
  "vex_generation",
  "reachability_analysis",
  "security_fuzzing",
  "priority_support",
  "dedicated_support",
  "custom_integrations",
] as const;
export type Feature = (typeof FEATURES)[number];

export interface Tier {
  tier: TierName;
  monthly_analysis_limit: number | null;
  monthly_credit_limit: number | null;
  priority: number;
  features: Feature[];
}

export const TIERS: readonly Tier[] = [
  { tier: "free", monthly_analysis_limit: 10, monthly_credit_limit: 100, priority: 0, features: ["basic_analysis", "vex_generation"] },
  {
    tier: "starter",
    monthly_analysis_limit: 100,
    monthly_credit_limit: 1000,
    priority: 1,
    features: ["basic_analysis", "vex_generation", "reachability_analysis"],
  },
  {
    tier: "professional",
    monthly_analysis_limit: 500,
    monthly_credit_limit: 5000,
    priority: 2,
    features: ["basic_analysis", "vex_generation", "reachability_analysis", "security_fuzzing", "priority_support"],
  },
  {
    tier: "enterprise",
    monthly_analysis_limit: null,
    monthly_credit_limit: null,
    priority: 3,
    features: [
      "basic_analysis",
      "vex_generation",
      "reachability_analysis",
      "security_fuzzing",
      "priority_support",
      "dedicated_support",
      "custom_integrations",
    ],
  },
];

export function getTier(name: TierName): Tier {
  return TIERS.find((t) => t.tier === name)!;
}

export function tierHas(name: TierName, feature: Feature): boolean {
  return getTier(name).features.includes(feature);
}

/** The lowest tier (by priority) that has a feature. */
export function lowestTierWith(feature: Feature): TierName {
  return [...TIERS].sort((a, b) => a.priority - b.priority).find((t) => t.features.includes(feature))!.tier;
}

export const SUBSCRIPTION_STATUSES = ["active", "trialing", "past_due", "canceled", "incomplete", "unpaid", "paused"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

import { z } from "@hono/zod-openapi";
import { FEATURES, SUBSCRIPTION_STATUSES, TIER_NAMES } from "../../lib/tiers.js";

const ts = (example: string) => z.string().openapi({ example });

export const SubscriptionSchema = z
  .object({
    id: z.string().uuid(),
    organization_id: z.string().uuid(),
    tier: z.enum(TIER_NAMES),
    status: z.enum(SUBSCRIPTION_STATUSES),
    monthly_analysis_limit: z.number().int().nullable(),
    monthly_credit_limit: z.number().int().nullable(),
    current_period_analyses: z.number().int(),
    current_period_credits_used: z.number().int(),
    current_period_start: ts("2025-11-01T00:00:00Z"),
    current_period_end: ts("2025-12-01T00:00:00Z"),
    trial_end: z.string().nullable(),
    cancel_at_period_end: z.boolean(),
    cancel_at: z.string().nullable().openapi({ description: "When a cancellation at the period's end takes effect; null when none is scheduled" }),
    pending_tier: z.enum(TIER_NAMES).nullable().openapi({ description: "The tier a scheduled downgrade moves to at pending_tier_at; null when none" }),
    pending_tier_at: z.string().nullable(),
    created_at: ts("2025-10-01T14:30:00Z"),
    features: z.array(z.enum(FEATURES)),
    credit_balance: z.number().int(),
  })
  .openapi("Subscription");

export const CreditsSchema = z
  .object({
    organization_id: z.string().uuid(),
    credit_balance: z.number().int().openapi({ description: "Unexpired plan grant + purchased credits" }),
    organization_name: z.string(),
    plan_grant_remaining: z.number().int(),
    purchased_credits: z.number().int(),
    held_credits: z.number().int().openapi({ description: "Reserved by admitted analyses that have not settled" }),
    available_credits: z.number().int(),
  })
  .openapi("Credits");

export const UsageSchema = z
  .object({
    organization_id: z.string().uuid(),
    current_period_analyses: z.number().int(),
    current_period_credits_used: z.number().int(),
    monthly_analysis_limit: z.number().int().nullable(),
    monthly_credit_limit: z.number().int().nullable(),
    current_period_start: z.string(),
    current_period_end: z.string(),
    utilization_percent: z.number().nullable().openapi({ description: "credits used ÷ monthly credit limit × 100, two decimals; null when unlimited" }),
  })
  .openapi("Usage");

export const BillingEventSchema = z
  .object({
    id: z.string().uuid(),
    organization_id: z.string().uuid(),
    event_type: z.string().openapi({ example: "analysis_completed" }),
    description: z.string(),
    analysis_job_id: z.string().nullable(),
    credits_amount: z.number().int(),
    balance_after: z.number().int(),
    grant_amount: z.number().int().openapi({ description: "Part of credits_amount that moved plan-grant credits" }),
    purchased_amount: z.number().int().openapi({ description: "Part of credits_amount that moved purchased credits" }),
    held_amount: z.number().int().openapi({ description: "Change to held credits (holds placed or released)" }),
    stripe_event_id: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("BillingEvent");

export const TierSchema = z
  .object({
    tier: z.enum(TIER_NAMES),
    monthly_analysis_limit: z.number().int().nullable(),
    monthly_credit_limit: z.number().int().nullable(),
    priority: z.number().int(),
    features: z.array(z.enum(FEATURES)),
  })
  .openapi("Tier");

const CanSubmitSchema = z
  .object({
    allowed: z.boolean(),
    reason: z.string().nullable().openapi({ description: "The admission's own refusal message (what submit would answer); null when allowed" }),
    error: z.enum(["FORBIDDEN", "QUOTA_EXCEEDED", "RESOURCE_CONFLICT"]).nullable().openapi({ description: "The error code submit would answer" }),
    details: z.record(z.string(), z.unknown()).nullable(),
    retry_after_seconds: z.number().int().nullable().openapi({ description: "For quota refusals: seconds until the period resets" }),
    max_cost_credits: z.number().int().nullable().openapi({ description: "The hold submit would place, when allowed" }),
  })
  .openapi("CanSubmit");

export const EntitlementsSchema = z
  .object({
    organization_id: z.string().uuid(),
    tier: z.enum(TIER_NAMES),
    status: z.enum(SUBSCRIPTION_STATUSES),
    features: z.array(z.enum(FEATURES)),
    premium_analysis_enabled: z.boolean().openapi({ description: "The subscription's status allows analyses (active or trialing)" }),
    can_submit: CanSubmitSchema,
    remaining: z
      .object({ analyses: z.number().int().nullable(), credits: z.number().int().nullable() })
      .openapi({ description: "Left this period: analyses (monthly limit − used) and available credits; null when unlimited" }),
    current_period_end: z.string(),
    cancel_at_period_end: z.boolean(),
    upgrade_url: z.string().url().openapi({ description: "The billing page's plans, with return_to when given" }),
  })
  .openapi("Entitlements");

/** Billing reads (spec §1): always the caller's own organization; balances and counters from its ledger. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { bearerSecurity, errorResponses, publicSecurity, queryInt } from "../schemas.js";
import { documentExamples } from "../spec-examples.js";
import { BillingEventSchema, CreditsSchema, EntitlementsSchema, SubscriptionSchema, TierSchema, UsageSchema } from "./schemas.js";
import { getEntitlements } from "../../services/billing/getEntitlements.js";
import { safeReturnTo } from "../../services/sessions/returnTo.js";
import { validationHook } from "../validation.js";
import { requireAuth } from "../../middleware/auth.js";
import { getAccount } from "../../services/billing/getAccount.js";
import { getTier, TIERS } from "../../lib/tiers.js";
import { listBillingEvents } from "../../services/billing/listBillingEvents.js";
import { getOrganization } from "../../services/billing/getOrganization.js";
import type { AccountView } from "../../services/billing/getAccount.js";

const json = <T extends z.ZodTypeAny>(schema: T, description: string, example: unknown) => ({ content: { "application/json": { schema, example } }, description });

const tiers = createRoute({
  method: "get",
  path: "/tiers",
  operationId: "listTiers",
  tags: ["Billing"],
  summary: "Public tier list: limits, priority and features",
  security: publicSecurity,
  responses: { 200: json(z.array(TierSchema), "The four tiers", documentExamples.tiers), ...errorResponses({}) },
});
const subscription = createRoute({
  method: "get",
  path: "/subscription",
  operationId: "getSubscription",
  tags: ["Billing"],
  summary: "The organization's subscription",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  responses: { 200: json(SubscriptionSchema, "Subscription", documentExamples.subscription), ...errorResponses({ bearer: true }) },
});
const credits = createRoute({
  method: "get",
  path: "/credits",
  operationId: "getCredits",
  tags: ["Billing"],
  summary: "The organization's credit balance",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  responses: { 200: json(CreditsSchema, "Credit balance", documentExamples.credits), ...errorResponses({ bearer: true }) },
});
const usage = createRoute({
  method: "get",
  path: "/usage",
  operationId: "getUsage",
  tags: ["Billing"],
  summary: "Usage in the current billing period",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  responses: { 200: json(UsageSchema, "Usage", documentExamples.usage), ...errorResponses({ bearer: true }) },
});
const events = createRoute({
  method: "get",
  path: "/events",
  operationId: "listBillingEvents",
  tags: ["Billing"],
  summary: "Billing event history, newest first",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { query: z.object({ limit: queryInt(1, 200, 50), offset: queryInt(0, 1_000_000_000, 0) }) },
  responses: { 200: json(z.array(BillingEventSchema), "Events", documentExamples.events), ...errorResponses({ bearer: true, params: true }) },
});

const flag = z.enum(["true", "false"]).transform((v) => v === "true").optional();
const entitlements = createRoute({
  method: "get",
  path: "/entitlements",
  operationId: "getEntitlements",
  tags: ["Billing"],
  summary: "Everything a page view needs: tier, status, features, whether the next submission would be admitted, what is left, where to upgrade",
  description:
    "`can_submit` is decided by the same admission rules as `POST /api/v1/analysis/submit` and `/quote` (status, features, monthly " +
    "analyses, credits — in that order), for the submission the query describes (the same `profile` and config fields as submit; " +
    "omitted, submit's defaults). When it says allowed, that submission is admitted unless the account changes in between; when it " +
    "refuses, submit refuses with the same `error` and message. Rate limits are per request and not part of it.",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: {
    query: z.object({
      profile: z.enum(["minimal", "standard", "comprehensive"]).optional(),
      enable_fuzzing: flag,
      enable_profiling: flag,
      enable_code_coverage: flag,
      test_timeout: queryInt(60, 3600, 300).optional(),
      return_to: z.string().max(2000).optional().openapi({ description: "Where the billing page leads back to (an allowed origin); carried in upgrade_url" }),
    }),
  },
  responses: {
    200: json(EntitlementsSchema, "Entitlements", documentExamples.entitlements),
    ...errorResponses({ bearer: true, params: true }),
  },
});

function subscriptionView(a: AccountView) {
  return {
    id: a.subscription_id,
    organization_id: a.organization_id,
    tier: a.tier,
    status: a.status,
    monthly_analysis_limit: a.monthly_analysis_limit,
    monthly_credit_limit: a.monthly_credit_limit,
    current_period_analyses: a.current_period_analyses,
    current_period_credits_used: a.current_period_credits_used,
    current_period_start: a.current_period_start,
    current_period_end: a.current_period_end,
    trial_end: a.trial_end,
    cancel_at_period_end: a.cancel_at_period_end,
    cancel_at: a.cancel_at,
    pending_tier: a.pending_tier,
    pending_tier_at: a.pending_tier_at,
    created_at: a.created_at,
    features: getTier(a.tier).features,
    credit_balance: a.balance,
  };
}

function usageView(a: AccountView) {
  return {
    organization_id: a.organization_id,
    current_period_analyses: a.current_period_analyses,
    current_period_credits_used: a.current_period_credits_used,
    monthly_analysis_limit: a.monthly_analysis_limit,
    monthly_credit_limit: a.monthly_credit_limit,
    current_period_start: a.current_period_start,
    current_period_end: a.current_period_end,
    utilization_percent:
      a.monthly_credit_limit === null || a.monthly_credit_limit === 0
        ? null
        : Math.round((a.current_period_credits_used / a.monthly_credit_limit) * 10_000) / 100,
  };
}

export const publicBillingRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(tiers, (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(TIERS.map((t) => ({ ...t, features: [...t.features] })), 200);
});

export const billingRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(subscription, async (c) => {
    const { orgId } = c.get("auth");
    return c.json(subscriptionView(await getAccount({ env: c.env, orgId })), 200);
  })
  .openapi(credits, async (c) => {
    const { orgId } = c.get("auth");
    const [account, org] = await Promise.all([getAccount({ env: c.env, orgId }), getOrganization({ db: c.get("db"), orgId })]);
    return c.json(
      {
        organization_id: orgId,
        credit_balance: account.balance,
        organization_name: org?.name ?? "",
        plan_grant_remaining: account.grant_remaining,
        purchased_credits: account.purchased_balance,
        held_credits: account.held,
        available_credits: account.available,
      },
      200,
    );
  })
  .openapi(usage, async (c) => {
    const { orgId } = c.get("auth");
    return c.json(usageView(await getAccount({ env: c.env, orgId })), 200);
  })
  .openapi(entitlements, async (c) => {
    const q = c.req.valid("query");
    const url = new URL(c.req.url);
    const config = c.get("config");
    const submission = {
      ...(q.profile ? { profile: q.profile } : {}),
      config: {
        ...(q.enable_fuzzing !== undefined ? { enable_fuzzing: q.enable_fuzzing } : {}),
        ...(q.enable_profiling !== undefined ? { enable_profiling: q.enable_profiling } : {}),
        ...(q.enable_code_coverage !== undefined ? { enable_code_coverage: q.enable_code_coverage } : {}),
        // queryInt fills its default; only a value the caller sent overrides the profile's timeout.
        ...(url.searchParams.has("test_timeout") ? { test_timeout: q.test_timeout } : {}),
      },
    };
    return c.json(await getEntitlements({ env: c.env, config, orgId: c.get("auth").orgId, submission, returnTo: safeReturnTo(config, q.return_to) }), 200);
  })
  .openapi(events, async (c) => {
    const { limit, offset } = c.req.valid("query");
    return c.json(await listBillingEvents({ env: c.env, db: c.get("db"), orgId: c.get("auth").orgId, limit, offset }), 200);
  });

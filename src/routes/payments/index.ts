/**
 * Starting payments from the base application or the billing pages: Checkout for tiers and credit
 * packs, tier changes on an existing subscription, and the Stripe customer portal. Organization
 * admins only (403 otherwise). No card data ever touches this service.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../env.js";
import { forbidden } from "../../errors/api-error.js";
import { bearerSecurity, errorResponses } from "../schemas.js";
import { validationHook } from "../validation.js";
import { requireAuth } from "../../middleware/auth.js";
import { getAccount } from "../../services/billing/getAccount.js";
import { TIER_NAMES } from "../../lib/tiers.js";
import { stripeClient } from "../../services/stripe/client.js";
import { openPortal, purchaseCredits, purchaseTier } from "../../services/stripe/checkout.js";
import { safeReturnTo } from "../../services/sessions/returnTo.js";

const ReturnTo = z.string().max(2000).optional().openapi({ description: "Where the success/cancel pages lead back to (an allowed origin)" });

const CheckoutBody = z
  .union([
    z.object({ tier: z.enum(TIER_NAMES).exclude(["free"]), return_to: ReturnTo }).strict(),
    z.object({ pack: z.string().min(1).max(40), return_to: ReturnTo }).strict(),
  ])
  .openapi("CheckoutRequest");

const PurchaseResult = z
  .union([
    z.object({ kind: z.literal("checkout"), url: z.string().url(), session_id: z.string() }),
    z.object({
      kind: z.literal("changed"),
      change: z.enum(["upgrade", "downgrade"]),
      tier: z.enum(TIER_NAMES),
      effective_at: z.string(),
      message: z.string(),
    }),
  ])
  .openapi("PurchaseResult");

const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("auth").isAdmin) throw forbidden("Only organization admins may buy credits or change the plan", { required_role: "admin" });
  await next();
});
const adminOnly = [requireAuth, requireAdmin];

const notAdmin = { description: "the caller is not an organization admin", message: "Only organization admins may buy credits or change the plan", details: { required_role: "admin" } };
const stripeDown = { description: "Stripe refused or could not be reached", message: "Stripe could not be reached", details: null };

const checkout = createRoute({
  method: "post",
  path: "/checkout",
  operationId: "createCheckout",
  tags: ["Payments"],
  summary: "Subscribe, change tier, or buy a credit pack",
  description:
    "`{tier}` without a subscription, or `{pack}`: a Stripe Checkout session to redirect to. `{tier}` with a subscription: " +
    "an upgrade applies at once (prorated), a downgrade at the end of the paid period.",
  security: bearerSecurity,
  middleware: adminOnly,
  request: { body: { content: { "application/json": { schema: CheckoutBody } }, required: true } },
  responses: {
    200: { content: { "application/json": { schema: PurchaseResult } }, description: "Where to go next" },
    ...errorResponses({ bearer: true, body: true }, { 403: notAdmin, 409: { description: "already on that tier", message: "The organization is already on the starter tier", details: { tier: "starter" } }, 502: stripeDown }),
  },
});

const portal = createRoute({
  method: "post",
  path: "/portal",
  operationId: "createPortalSession",
  tags: ["Payments"],
  summary: "A Stripe customer portal session (payment methods, invoices, cancellation)",
  security: bearerSecurity,
  middleware: adminOnly,
  responses: {
    200: { content: { "application/json": { schema: z.object({ url: z.string().url() }) } }, description: "Portal URL" },
    ...errorResponses({ bearer: true, bodyChecks: true }, { 403: notAdmin, 502: stripeDown }),
  },
});

export const paymentRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(checkout, async (c) => {
    const body = c.req.valid("json");
    const { orgId } = c.get("auth");
    const config = c.get("config");
    const ctx = { db: c.get("db"), config, stripe: stripeClient(config), orgId, returnTo: safeReturnTo(config, body.return_to) };
    const result =
      "tier" in body
        ? await purchaseTier({ ...ctx, tier: body.tier, account: await getAccount({ env: c.env, orgId }) })
        : await purchaseCredits({ ...ctx, packId: body.pack });
    return c.json(result, 200);
  })
  .openapi(portal, async (c) => {
    const config = c.get("config");
    return c.json(await openPortal({ db: c.get("db"), config, stripe: stripeClient(config), orgId: c.get("auth").orgId }), 200);
  });

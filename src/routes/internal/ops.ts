/**
 * Operator endpoints for support cases (credit grants, adjustments, tier changes without Stripe),
 * guarded by OPERATOR_TOKEN. Every use is a ledger entry with its reason. `npm run ops` calls these.
 * Documented in /openapi.json under the OperatorToken scheme.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { getAccount } from "../../services/billing/getAccount.js";
import { requireOperator } from "../../middleware/operator.js";
import { adjustCredits, changePlanByOperator, listLedgerEntries } from "../../services/ops/ledgerOps.js";
import { TIER_NAMES, SUBSCRIPTION_STATUSES } from "../../lib/tiers.js";
import { errorResponses, operatorSecurity } from "../schemas.js";
import { validationHook } from "../validation.js";

const OrgParam = z.object({
  org_id: z.string().uuid("must be a UUID").openapi({ param: { name: "org_id", in: "path" }, example: "6ba7b810-9dad-11d1-80b4-00c04fd430c8" }),
});
const RequestId = z.string().min(8).max(128).optional().openapi({ description: "Makes the change exactly-once: a retry with the same id changes nothing" });
const CreditBody = z
  .object({
    credits: z.number().int().refine((n) => n !== 0, "must not be 0").refine((n) => Math.abs(n) <= 10_000_000, "too large"),
    reason: z.string().trim().min(3).max(500),
    pool: z.enum(["purchased", "grant"]).default("purchased"),
    request_id: RequestId,
  })
  .openapi("OperatorCreditAdjustment", { example: { credits: 500, reason: "Goodwill credit for ticket 1234", pool: "purchased" } });
const PlanBody = z
  .object({
    tier: z.enum(TIER_NAMES),
    status: z.enum(SUBSCRIPTION_STATUSES).default("active"),
    reason: z.string().trim().min(3).max(500),
    new_period: z.boolean().default(false),
    request_id: RequestId,
  })
  .openapi("OperatorPlanChange", { example: { tier: "starter", reason: "Pilot agreement", status: "active", new_period: false } });
const Record = (name: string, description: string) => z.record(z.string(), z.unknown()).openapi(name, { description });

const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

const account = createRoute({
  method: "get",
  path: "/organizations/{org_id}/account",
  operationId: "getOperatorAccount",
  tags: ["Operator"],
  summary: "An organization's account as its ledger holds it (subscription, balances, holds)",
  security: operatorSecurity,
  middleware: [requireOperator] as const,
  request: { params: OrgParam },
  responses: { 200: json(Record("OperatorAccount", "The ledger's account view"), "Account"), ...errorResponses({ bearer: true, params: true }) },
});
const ledger = createRoute({
  method: "get",
  path: "/organizations/{org_id}/ledger",
  operationId: "listOperatorLedgerEntries",
  tags: ["Operator"],
  summary: "Every entry of the organization's ledger, in order",
  security: operatorSecurity,
  middleware: [requireOperator] as const,
  request: { params: OrgParam },
  responses: { 200: json(z.array(Record("OperatorLedgerEntry", "One ledger entry")), "Entries"), ...errorResponses({ bearer: true, params: true }) },
});
const credits = createRoute({
  method: "post",
  path: "/organizations/{org_id}/credits",
  operationId: "adjustOperatorCredits",
  tags: ["Operator"],
  summary: "Grant or take back credits, with a reason (a ledger entry)",
  security: operatorSecurity,
  middleware: [requireOperator] as const,
  request: { params: OrgParam, body: { content: { "application/json": { schema: CreditBody } }, required: true } },
  responses: {
    200: json(Record("OperatorCreditResult", "The entry and the balance after it"), "Adjusted"),
    ...errorResponses({ bearer: true, body: true }, { 409: "the adjustment would take the balance below zero" }),
  },
});
const plan = createRoute({
  method: "post",
  path: "/organizations/{org_id}/plan",
  operationId: "changeOperatorPlan",
  tags: ["Operator"],
  summary: "Set the tier and status without Stripe, with a reason (a ledger entry)",
  security: operatorSecurity,
  middleware: [requireOperator] as const,
  request: { params: OrgParam, body: { content: { "application/json": { schema: PlanBody } }, required: true } },
  responses: { 200: json(Record("OperatorPlanResult", "The account after the change"), "Changed"), ...errorResponses({ bearer: true, body: true }) },
});

export const opsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(account, async (c) => c.json(await getAccount({ env: c.env, orgId: c.req.valid("param").org_id }), 200))
  .openapi(ledger, async (c) => c.json(await listLedgerEntries({ env: c.env, orgId: c.req.valid("param").org_id }), 200))
  .openapi(credits, async (c) => {
    const b = c.req.valid("json");
    const orgId = c.req.valid("param").org_id;
    return c.json(await adjustCredits({ env: c.env, orgId, requestId: b.request_id ?? crypto.randomUUID(), credits: b.credits, pool: b.pool, reason: b.reason }), 200);
  })
  .openapi(plan, async (c) => {
    const b = c.req.valid("json");
    const orgId = c.req.valid("param").org_id;
    const requestId = b.request_id ?? crypto.randomUUID();
    return c.json(await changePlanByOperator({ env: c.env, orgId, requestId, tier: b.tier, status: b.status, reason: b.reason, newPeriod: b.new_period }), 200);
  });

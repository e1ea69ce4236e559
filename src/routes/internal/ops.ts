/**
 * Operator endpoints for support cases (credit grants, adjustments, tier changes without Stripe),
 * guarded by OPERATOR_TOKEN. Every use is a ledger entry with its reason. `npm run ops` calls these.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { zodDetails } from "../../errors/envelope.js";
import { getAccount } from "../../services/billing/getAccount.js";
import { requireOperator } from "../../middleware/operator.js";
import { adjustCredits, changePlanByOperator, listLedgerEntries } from "../../services/ops/ledgerOps.js";
import { TIER_NAMES, SUBSCRIPTION_STATUSES } from "../../lib/tiers.js";

const OrgId = z.string().uuid();
const CreditBody = z.object({
  credits: z.number().int().refine((n) => n !== 0, "must not be 0").refine((n) => Math.abs(n) <= 10_000_000, "too large"),
  reason: z.string().trim().min(3).max(500),
  pool: z.enum(["purchased", "grant"]).default("purchased"),
  request_id: z.string().min(8).max(128).optional(),
});
const PlanBody = z.object({
  tier: z.enum(TIER_NAMES),
  status: z.enum(SUBSCRIPTION_STATUSES).default("active"),
  reason: z.string().trim().min(3).max(500),
  new_period: z.boolean().default(false),
  request_id: z.string().min(8).max(128).optional(),
});

async function body<T extends z.ZodTypeAny>(schema: T, req: Request): Promise<z.infer<T>> {
  let value: unknown;
  try {
    value = await req.json();
  } catch {
    throw new ApiError("VALIDATION_ERROR", "Malformed JSON in request body");
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new ApiError("VALIDATION_ERROR", "Invalid request", zodDetails(r.error.issues));
  return r.data;
}

function org(id: string): string {
  if (!OrgId.safeParse(id).success) throw new ApiError("VALIDATION_ERROR", "organization id must be a UUID");
  return id;
}

export const opsRoutes = new Hono<AppEnv>()
  .use("*", requireOperator)
  .get("/organizations/:org_id/account", async (c) => {
    const id = org(c.req.param("org_id"));
    return c.json(await getAccount({ env: c.env, orgId: id }));
  })
  .get("/organizations/:org_id/ledger", async (c) => {
    const id = org(c.req.param("org_id"));
    return c.json(await listLedgerEntries({ env: c.env, orgId: id }));
  })
  .post("/organizations/:org_id/credits", async (c) => {
    const id = org(c.req.param("org_id"));
    const b = await body(CreditBody, c.req.raw);
    return c.json(await adjustCredits({ env: c.env, orgId: id, requestId: b.request_id ?? crypto.randomUUID(), credits: b.credits, pool: b.pool, reason: b.reason }));
  })
  .post("/organizations/:org_id/plan", async (c) => {
    const id = org(c.req.param("org_id"));
    const b = await body(PlanBody, c.req.raw);
    const requestId = b.request_id ?? crypto.randomUUID();
    return c.json(await changePlanByOperator({ env: c.env, orgId: id, requestId, tier: b.tier, status: b.status, reason: b.reason, newPeriod: b.new_period ?? false }));
  });

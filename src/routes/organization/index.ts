/** The caller's organization: its settings (today the default VEX policy for analyses). */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { requireAuth } from "../../middleware/auth.js";
import { getOrganizationSettings, updateOrganizationSettings } from "../../services/organizations/settings.js";
import { bearerSecurity, errorResponses } from "../schemas.js";
import { validationHook } from "../validation.js";

const VexPolicySchema = z.enum(["standard", "strict"]).openapi({
  description:
    "Default for analyses whose config sets no `vex_policy`. `standard` issues not_affected at high or medium confidence; `strict` only at high confidence, and says under_investigation otherwise.",
  example: "strict",
});
const SettingsSchema = z.object({ default_vex_policy: VexPolicySchema }).openapi("OrganizationSettings");
const SettingsUpdateSchema = z.object({ default_vex_policy: VexPolicySchema.optional() }).strict().openapi("OrganizationSettingsUpdate");

const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

const getSettings = createRoute({
  method: "get",
  path: "/settings",
  operationId: "getOrganizationSettings",
  tags: ["Organization"],
  summary: "The organization's settings",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  responses: { 200: json(SettingsSchema, "Settings"), ...errorResponses({ bearer: true }) },
});
const patchSettings = createRoute({
  method: "patch",
  path: "/settings",
  operationId: "updateOrganizationSettings",
  tags: ["Organization"],
  summary: "Change the organization's settings (organization admins)",
  security: bearerSecurity,
  middleware: [requireAuth] as const,
  request: { body: { content: { "application/json": { schema: SettingsUpdateSchema } }, required: true } },
  responses: {
    200: json(SettingsSchema, "Settings after the change"),
    ...errorResponses({ bearer: true, body: true }, { 403: "only an organization admin can change its settings" }),
  },
});

export const organizationRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  .openapi(getSettings, async (c) => {
    const { orgId } = c.get("auth");
    return c.json(await getOrganizationSettings({ db: c.get("db"), orgId }), 200);
  })
  .openapi(patchSettings, async (c) => {
    const { orgId, isAdmin } = c.get("auth");
    return c.json(await updateOrganizationSettings({ db: c.get("db"), orgId, isAdmin, input: c.req.valid("json") }), 200);
  });

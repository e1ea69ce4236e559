/** GET /internal/v1/metrics: Prometheus text for operators (spec §11), guarded by OPERATOR_TOKEN. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { requireOperator } from "../../middleware/operator.js";
import { renderPrometheus } from "../../services/metrics/prometheus.js";
import { errorResponses, operatorSecurity } from "../schemas.js";
import { validationHook } from "../validation.js";

const metrics = createRoute({
  method: "get",
  path: "/",
  operationId: "getMetrics",
  tags: ["Operator"],
  summary: "Prometheus text exposition: jobs by status, credits held and consumed, quota refusals, webhook processing",
  security: operatorSecurity,
  middleware: [requireOperator] as const,
  responses: {
    200: { content: { "text/plain": { schema: z.string().openapi({ example: "# HELP vexxy_analysis_jobs Analysis jobs by status (the queue depth is status=queued).\n# TYPE vexxy_analysis_jobs gauge\nvexxy_analysis_jobs{status=\"queued\"} 3\n" }) } }, description: "Prometheus text format 0.0.4" },
    ...errorResponses({ bearer: true }),
  },
});

export const metricsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(metrics, async (c) => {
  const text = await renderPrometheus(c.env.DB, c.get("db"));
  return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" });
});

/** GET /internal/v1/metrics: Prometheus text for operators (spec §11), guarded by OPERATOR_TOKEN. */
import { Hono } from "hono";
import type { AppEnv } from "../../env.js";
import { requireOperator } from "../../middleware/operator.js";
import { renderPrometheus } from "../../services/metrics/prometheus.js";

export const metricsRoutes = new Hono<AppEnv>().use("*", requireOperator).get("/", async (c) => {
  const text = await renderPrometheus(c.env.DB, c.get("db"));
  return c.text(text, 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" });
});

/** GET /metrics — Prometheus text exposition of the runner's own registry. */
import type { Handler } from "./context.js";

export const metrics: Handler = async (_req, res, ctx) => {
  const text = await ctx.metrics.registry.metrics();
  res.writeHead(200, { "content-type": ctx.metrics.registry.contentType });
  res.end(text);
};

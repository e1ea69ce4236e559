/** Builds the Hono app: middleware, one sub-app per resource, one error handler, OpenAPI. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { swaggerUI } from "@hono/swagger-ui";
import { createMiddleware } from "hono/factory";
import { loadConfig, type AppEnv } from "./env.js";
import { createDb } from "./db/client.js";
import { requestId } from "./middleware/request-id.js";
import { errorResponse, notFound, onError } from "./middleware/errors.js";
import { limitBody, requireJson } from "./middleware/json-body.js";
import { corsFromConfig } from "./middleware/cors.js";
import { limitByAddress, RATE_LIMITS } from "./middleware/rate-limit.js";
import { allowedMethods, methodNotAllowed } from "./middleware/method-not-allowed.js";
import { validationHook } from "./routes/validation.js";
import { authRoutes } from "./routes/auth/index.js";
import { billingRoutes, publicBillingRoutes } from "./routes/billing/index.js";
import { organizationRoutes } from "./routes/organization/index.js";
import { analysisRoutes } from "./routes/analysis/index.js";
import { runnerRoutes } from "./routes/internal/runner.js";
import { opsRoutes } from "./routes/internal/ops.js";
import { metricsRoutes } from "./routes/internal/metrics.js";
import { webhookRoutes } from "./routes/webhooks/index.js";
import { paymentRoutes } from "./routes/payments/index.js";
import { pageRoutes } from "./pages/index.js";

const JSON_BODY_LIMIT = 1024 * 1024;
/** Submissions may carry an inline SBOM and scan (each ≤ 5 MiB). */
const SUBMIT_BODY_LIMIT = 11 * 1024 * 1024;

const withServices = createMiddleware<AppEnv>(async (c, next) => {
  c.set("config", loadConfig(c.env));
  c.set("db", createDb(c.env.DB));
  await next();
});

/** The public API's routes, chained so their types reach the typed client (src/client). */
function publicRoutes() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .route("/api/v1/auth", authRoutes)
    .route("/api/v1/billing", publicBillingRoutes)
    .route("/api/v1/billing", billingRoutes)
    .route("/api/v1/analysis", analysisRoutes)
    .route("/api/v1/organization", organizationRoutes);
}
export type AppType = ReturnType<typeof publicRoutes>;

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", requestId);
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.use("*", withServices);
  app.use("/api/*", corsFromConfig);
  app.use("/api/*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const limit = path === "/api/v1/analysis/submit" || path === "/api/v1/analysis/quote" ? SUBMIT_BODY_LIMIT : JSON_BODY_LIMIT;
    return limitBody(limit)(c, next);
  });
  // Runner callbacks read their bodies only once the signature headers verify (runner-signature.ts).
  app.use("/internal/v1/ops/*", limitBody(JSON_BODY_LIMIT));
  app.use("/api/*", requireJson);
  app.use("/api/v1/auth/*", limitByAddress("address"));
  app.use("/billing/*", limitByAddress("address", ["POST"]));
  app.use("/internal/*", limitByAddress("runner"));

  app.route("/", publicRoutes());
  app.route("/internal/v1/jobs", runnerRoutes);
  app.route("/internal/v1/ops", opsRoutes);
  app.route("/internal/v1/metrics", metricsRoutes);
  app.route("/api/v1/webhooks", webhookRoutes);
  app.route("/api/v1/payments", paymentRoutes);
  app.route("/billing", pageRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "HS256 token minted by the base VEXxy application (create_premium_token) or by POST /api/v1/auth/login",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "VEXxy Premium API",
      version: "1.0.0",
      description:
        "Billing, credits and premium runtime analysis for VEXxy. Every error is `{ error, message, details, timestamp }`.\n\n" +
        "**Rate limits** (429 `QUOTA_EXCEEDED`, `details.quota_type: \"rate_limit\"`, `Retry-After` and the IETF `RateLimit` / " +
        "`RateLimit-Policy` headers): " +
        Object.values(RATE_LIMITS)
          .map((r) => `${r.policy} ${r.limit} requests per ${r.periodSeconds} s`)
          .join("; ") +
        " (organization-api: authenticated calls per organization; client-address: /api/v1/auth/* and billing-page forms per " +
        "client address; runner-callbacks: /internal/*). Counted per Cloudflare location; configured in wrangler.toml. " +
        "Failed sign-ins are also slowed per email and client address (1 s doubling to 15 min after 3 failures).",
    },
    servers: [{ url: "http://localhost:8001", description: "Local development" }],
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "VEXxy Premium API" }));

  app.onError(onError);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allow = allowedMethods(app, path);
    if (allow.length && !allow.includes(c.req.method)) return errorResponse(c, methodNotAllowed(c.req.method, path, allow));
    return notFound(c);
  });
  return app;
}

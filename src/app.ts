/** Builds the Hono app: middleware, one sub-app per resource, one error handler, OpenAPI. */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
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
import { publicSecurity } from "./routes/schemas.js";
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

/** Liveness: answered before configuration is read, so it says the Worker runs, not that it is configured. */
const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["Health"],
  summary: "Liveness of the Worker",
  security: publicSecurity,
  responses: { 200: { content: { "application/json": { schema: z.object({ status: z.literal("ok") }), example: { status: "ok" } } }, description: "The Worker runs" } },
});

/** Where the document says the API is: this deployment (PUBLIC_BASE_URL) and the local stack of `npm start`. */
const LOCAL_URL = "http://localhost:8001";

export function buildApp() {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", requestId);
  app.openapi(health, (c) => c.json({ status: "ok" as const }, 200));
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
  // /billing/ and /billing/credits/ reach their pages (a permanent redirect keeps one URL per page).
  app.use("/billing/*", async (c, next) => {
    const url = new URL(c.req.url);
    if ((c.req.method === "GET" || c.req.method === "HEAD") && url.pathname.length > 1 && url.pathname.endsWith("/")) {
      return c.redirect(`${url.pathname.replace(/\/+$/, "")}${url.search}`, 308);
    }
    await next();
  });
  app.route("/billing", pageRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "HS256 token minted by the base VEXxy application (create_premium_token) or by POST /api/v1/auth/login",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "OperatorToken", {
    type: "http",
    scheme: "bearer",
    description: "The deployment's OPERATOR_TOKEN (a secret, not a JWT): operator endpoints and the metrics scrape",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "StripeSignature", {
    type: "apiKey",
    in: "header",
    name: "Stripe-Signature",
    description: "Stripe's webhook signature (`t=<unix time>,v1=<HMAC-SHA256 of \"t.body\" with the endpoint secret>`), verified on the raw body within 300 s",
  });
  app.doc31("/openapi.json", (c) => {
    const deployed = c.get("config").PUBLIC_BASE_URL.replace(/\/+$/, "");
    return {
      openapi: "3.1.0",
      info: {
        title: "VEXxy Premium API",
        version: "1.0.0",
        license: { name: "Proprietary (VEXxy Premium)", identifier: "LicenseRef-VEXxy-Premium" },
        description:
          "Billing, credits and premium runtime analysis for VEXxy. Every error is `{ error, message, details, timestamp }`.\n\n" +
          "**Rate limits** (429 `QUOTA_EXCEEDED`, `details.quota_type: \"rate_limit\"`, `Retry-After` and the IETF `RateLimit` / " +
          "`RateLimit-Policy` headers): " +
          Object.values(RATE_LIMITS)
            .map((r) => `${r.policy} ${r.limit} requests per ${r.periodSeconds} s`)
            .join("; ") +
          " (organization-api: authenticated calls per organization; client-address: /api/v1/auth/* and billing-page forms per " +
          "client address; runner-callbacks: /internal/*). Counted per Cloudflare location; configured in wrangler.toml. " +
          "Failed sign-ins are also slowed per email and client address (1 s doubling to 15 min after 3 failures).\n\n" +
          "**Not in this document, on purpose:** the sandbox-runner's callbacks (`/internal/v1/jobs/*`). They are the contract " +
          "between this service and its own runner (the `@vexxy/contract` package: HMAC-SHA256 over method, path, timestamp, nonce and " +
          "body digest with RUNNER_SECRET), not an integration surface; the server-rendered billing pages (`/billing/*`) are HTML.",
      },
      servers: [
        { url: deployed, description: "This deployment (PUBLIC_BASE_URL)" },
        ...(deployed === LOCAL_URL ? [] : [{ url: LOCAL_URL, description: "Local development (npm start)" }]),
      ],
      tags: [
        { name: "Auth", description: "Accounts for development and standalone use (the base application mints its own tokens)" },
        { name: "Billing", description: "Subscription, credits, usage, billing events, tiers (spec §1)" },
        { name: "Analysis", description: "Premium runtime analysis and its VEX (spec §2)" },
        { name: "Organization", description: "The caller's organization settings" },
        { name: "Payments", description: "Stripe Checkout and the customer portal" },
        { name: "Webhooks", description: "Stripe events (spec §6)" },
        { name: "Operator", description: "Support operations and metrics, with the deployment's operator token" },
        { name: "Health", description: "Liveness" },
      ],
    };
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

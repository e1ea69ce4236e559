/**
 * Issue #20: a staging or production deployment refuses development values (the Worker answers 503
 * SERVICE_UNAVAILABLE to everything but /health and logs each problem), and calls to the runner carry
 * the Cloudflare Access service token when one is configured.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { ConfigError, loadConfig } from "../src/env.js";
import { dispatchBatchToRunner } from "../src/services/runner/runnerClient.js";
import { stubRunner } from "./support/runner.js";

/** What an operator sets for production: vars from [env.production], secrets from `wrangler secret put`. */
const PRODUCTION = {
  ENVIRONMENT: "production",
  JWT_ALGORITHM: "HS256",
  JWT_SECRET_KEY: "Zk3q9YwR2m8TnB5vL1xC7hJ4sD6gF0aE2pQ9uI3oK8yW",
  RUNNER_SECRET: "Qm4nB8vC2xZ6lK0jH5gF3dS9aP7oI1uY4tR8eW2qM6nB",
  OPERATOR_TOKEN: "Ty7uI3oP9aS5dF1gH8jK2lZ6xC4vB0nM7qW3eR9tY5uI",
  SESSION_SECRET: "Wq2eR6tY0uI4oP8aS3dF7gH1jK5lZ9xC2vB6nM0qW4eR",
  STRIPE_SECRET_KEY: "sk_live_51Hvexxyproduction",
  STRIPE_PUBLISHABLE_KEY: "pk_live_51Hvexxyproduction",
  STRIPE_WEBHOOK_SECRET: "whsec_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
  RUNNER_URL: "https://runner.vexxy.example.net",
  RUNNER_ACCESS_CLIENT_ID: "3f1c2b7a9e0d4c5b.access",
  RUNNER_ACCESS_CLIENT_SECRET: "d41d8cd98f00b204e9800998ecf8427ed41d8cd98f00b204",
  PUBLIC_BASE_URL: "https://premium.vexxy.example.net",
  CORS_ALLOWED_ORIGINS: "https://app.vexxy.example.net",
  RUNNER_ALLOWED_REGISTRIES: "",
};

/** .dev.vars.example and wrangler.toml's development [vars]. */
const DEVELOPMENT_VALUES = {
  JWT_SECRET_KEY: "dev-only-jwt-secret-change-me-0123456789abcdef",
  RUNNER_SECRET: "dev-only-runner-secret-change-me-0123456789abcdef",
  OPERATOR_TOKEN: "dev-only-operator-token-change-me-0123456789abcdef",
  SESSION_SECRET: "dev-only-session-secret-change-me-0123456789abcdef",
  STRIPE_SECRET_KEY: "sk_test_dev_placeholder",
  STRIPE_PUBLISHABLE_KEY: "pk_test_dev_placeholder",
  STRIPE_WEBHOOK_SECRET: "whsec_dev_placeholder_0123456789abcdef",
  RUNNER_URL: "http://127.0.0.1:8002",
  PUBLIC_BASE_URL: "http://localhost:8001",
  CORS_ALLOWED_ORIGINS: "http://localhost:8000,http://127.0.0.1:8000",
  RUNNER_ALLOWED_REGISTRIES: "localhost",
  STRIPE_API_BASE: "http://127.0.0.1:12111",
};

function problems(vars: Record<string, string>): string[] {
  try {
    loadConfig(vars as unknown as Env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("a deployment's configuration", () => {
  it("loads a real production configuration", () => {
    expect(problems(PRODUCTION)).toEqual([]);
  });

  it("refuses every development value in production, naming each setting", () => {
    const found = problems({ ...PRODUCTION, ...DEVELOPMENT_VALUES });
    const named = new Set(found.map((p) => p.split(":")[0]));
    for (const k of ["JWT_SECRET_KEY", "RUNNER_SECRET", "OPERATOR_TOKEN", "SESSION_SECRET", "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET", "RUNNER_URL", "PUBLIC_BASE_URL", "CORS_ALLOWED_ORIGINS", "RUNNER_ALLOWED_REGISTRIES", "STRIPE_API_BASE"]) {
      expect(named, `${k} in ${found.join(" | ")}`).toContain(k);
    }
    expect(found.join("\n")).toContain("wrangler secret put JWT_SECRET_KEY --env production");
  });

  it("refuses each development value on its own", () => {
    for (const [k, v] of Object.entries(DEVELOPMENT_VALUES)) {
      expect(problems({ ...PRODUCTION, [k]: v }).map((p) => p.split(":")[0]), k).toContain(k);
    }
  });

  it("refuses test-mode Stripe keys in production but not in staging; both need the runner's Access token", () => {
    const testKeys = { STRIPE_SECRET_KEY: "sk_test_51Hstaging", STRIPE_PUBLISHABLE_KEY: "pk_test_51Hstaging" };
    expect(problems({ ...PRODUCTION, ...testKeys }).length).toBe(2);
    expect(problems({ ...PRODUCTION, ...testKeys, ENVIRONMENT: "staging" })).toEqual([]);
    for (const ENVIRONMENT of ["staging", "production"]) {
      const { RUNNER_ACCESS_CLIENT_SECRET: _omitted, ...withoutToken } = PRODUCTION;
      expect(problems({ ...withoutToken, ...testKeys, ENVIRONMENT }).join()).toContain("RUNNER_ACCESS_CLIENT_SECRET");
    }
  });

  it("refuses to share one secret between roles", () => {
    expect(problems({ ...PRODUCTION, OPERATOR_TOKEN: PRODUCTION.JWT_SECRET_KEY }).join()).toContain("four different secrets");
  });

  it("keeps development and test as they are", () => {
    expect(problems({ ...PRODUCTION, ...DEVELOPMENT_VALUES, ENVIRONMENT: "development" })).toEqual([]);
  });

  it("a production Worker with development values answers 503 to the API and names the settings, /health stays up", async () => {
    const app = buildApp();
    const bindings = { ...env, ...PRODUCTION, ...DEVELOPMENT_VALUES } as unknown as Env;
    const res = await app.request("/api/v1/billing/tiers", {}, bindings);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: string; details: { settings: string[] } };
    expect(body.error).toBe("SERVICE_UNAVAILABLE");
    expect(body.details.settings).toEqual(expect.arrayContaining(["JWT_SECRET_KEY", "PUBLIC_BASE_URL"]));
    expect((await app.request("/health", {}, bindings)).status).toBe(200);
  });
});

describe("calls to the runner", () => {
  const job = { job_id: crypto.randomUUID() } as Parameters<typeof dispatchBatchToRunner>[1][number];

  it("carry the Access service token beside the HMAC signature when one is configured", async () => {
    const stub = stubRunner(() => new Response(null, { status: 202 }));
    try {
      const config = loadConfig({ ...env, ...PRODUCTION, STRIPE_API_BASE: undefined, RUNNER_URL: "https://runner.vexxy.example.net:9" } as unknown as Env);
      await dispatchBatchToRunner(config, [job]);
      const sent = stub.seen[0]!;
      expect(sent.headers.get("CF-Access-Client-Id")).toBe(PRODUCTION.RUNNER_ACCESS_CLIENT_ID);
      expect(sent.headers.get("CF-Access-Client-Secret")).toBe(PRODUCTION.RUNNER_ACCESS_CLIENT_SECRET);
      expect(sent.headers.get("x-vexxy-signature")).toMatch(/^v1=/);
    } finally {
      stub.restore();
    }
  });

  it("carry no Access headers in development", async () => {
    const stub = stubRunner(() => new Response(null, { status: 202 }));
    try {
      await dispatchBatchToRunner(loadConfig(env), [job]);
      expect(stub.seen[0]!.headers.get("CF-Access-Client-Id")).toBeNull();
    } finally {
      stub.restore();
    }
  });
});

/**
 * Configuration, validated once per isolate (Workers have no start-up hook: the first request
 * validates, every later one reuses the result) with a clear error naming what is wrong.
 */
import { parseAllowedRegistries } from "@vexxy/contract";
import { z } from "zod";
import type { RequestContext } from "./services/identity/context.js";
import type { Database } from "./db/client.js";

const secret = (name: string) =>
  z.string({ error: `${name} is missing` }).min(32, `${name} must be at least 32 characters`);

const csv = z
  .string()
  .optional()
  .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean));

const optionalUrl = z
  .string()
  .optional()
  .transform((s) => (s && s.trim() ? s.trim().replace(/\/+$/, "") : null))
  .pipe(z.string().url().nullable());

const stripePrice = (name: string) =>
  z
    .string()
    .optional()
    .transform((s) => (s && s.trim() ? s.trim() : null))
    .pipe(z.string().regex(/^price_\w+$/, `${name} must be a Stripe price id (price_…)`).nullable());

const CreditPackSchema = z.object({
  id: z.string().regex(/^[a-z0-9_-]{1,40}$/, "pack id must be 1-40 of a-z 0-9 _ -"),
  credits: z.number().int().positive(),
  price: z.string().regex(/^price_\w+$/, "price must be a Stripe price id (price_…)"),
  amount_cents: z.number().int().positive(),
  currency: z.string().regex(/^[a-z]{3}$/).default("usd"),
});
export type CreditPack = z.infer<typeof CreditPackSchema>;

const creditPacks = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s || !s.trim()) return [];
    try {
      return JSON.parse(s) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "STRIPE_CREDIT_PACKS must be a JSON array of packs" });
      return z.NEVER;
    }
  })
  .pipe(z.array(CreditPackSchema, { error: "STRIPE_CREDIT_PACKS must be a JSON array of packs" }));

const ConfigSchema = z
  .object({
    ENVIRONMENT: z.enum(["development", "test", "production"]).default("development"),
    JWT_SECRET_KEY: secret("JWT_SECRET_KEY"),
    /** During a rotation: the secret tokens were signed with until now; they still verify (docs/operations.md). */
    JWT_SECRET_KEY_PREVIOUS: secret("JWT_SECRET_KEY_PREVIOUS").optional(),
    JWT_ALGORITHM: z.enum(["HS256", "RS256"], { error: "JWT_ALGORITHM must be HS256 or RS256" }).default("HS256"),
    /** PEM SPKI public key, required when JWT_ALGORITHM=RS256 (the base app signs with its private key). */
    JWT_PUBLIC_KEY: z.string().optional(),
    RUNNER_SECRET: secret("RUNNER_SECRET"),
    /** During a rotation: the runner's previous HMAC secret, still accepted on its callbacks. */
    RUNNER_SECRET_PREVIOUS: secret("RUNNER_SECRET_PREVIOUS").optional(),
    RUNNER_URL: z.string().url("RUNNER_URL must be a URL").transform((s) => s.replace(/\/+$/, "")),
    /**
     * Seconds a dispatched job may go without a heartbeat from its runner (which sends one every 15 s
     * by default) before it is recovered: failed without charge, or dispatched again if it never started.
     * A runner's death is noticed within this plus the ledger's 20 s recovery tick (docs/operations.md).
     */
    JOB_LEASE_SECONDS: z.coerce.number().int().min(20).max(3600).default(120),
    OPERATOR_TOKEN: secret("OPERATOR_TOKEN"),
    SESSION_SECRET: secret("SESSION_SECRET"),
    CORS_ALLOWED_ORIGINS: csv,
    PUBLIC_BASE_URL: z.string().url("PUBLIC_BASE_URL must be a URL").transform((s) => s.replace(/\/+$/, "")),
    BASE_VEXXY_URL: optionalUrl,
    /** Path template for fetching an SBOM from the base app; {sbom_id} is replaced. */
    BASE_VEXXY_SBOM_PATH: z.string().default("/api/v1/sboms/{sbom_id}"),
    BASE_VEXXY_WEBHOOK_URL: optionalUrl,
    BASE_VEXXY_WEBHOOK_SECRET: z.string().optional(),
    STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, "STRIPE_SECRET_KEY must look like sk_test_… or sk_live_…").optional(),
    STRIPE_PUBLISHABLE_KEY: z.string().regex(/^pk_(test|live)_\w+$/, "STRIPE_PUBLISHABLE_KEY must look like pk_test_…").optional(),
    STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_\w+$/, "STRIPE_WEBHOOK_SECRET must look like whsec_…").optional(),
    /** Only for tests and local development: where the Stripe SDK sends API calls (fake Stripe). */
    STRIPE_API_BASE: optionalUrl,
    /** Stripe price ids of the paid tiers (recurring monthly prices). A tier without a price cannot be bought online. */
    STRIPE_PRICE_STARTER: stripePrice("STRIPE_PRICE_STARTER"),
    STRIPE_PRICE_PROFESSIONAL: stripePrice("STRIPE_PRICE_PROFESSIONAL"),
    STRIPE_PRICE_ENTERPRISE: stripePrice("STRIPE_PRICE_ENTERPRISE"),
    /** Credit packs for sale, JSON: [{"id":"pack_1000","credits":1000,"price":"price_…","amount_cents":10000}]. */
    STRIPE_CREDIT_PACKS: creditPacks,
    /**
     * Registries a job may name although the egress policy refuses their address or name
     * (comma-separated host[:port]; contract/src/egress.ts). Development sets `localhost` for its
     * locally built images; the runner has its own copy of the same setting.
     */
    RUNNER_ALLOWED_REGISTRIES: z
      .string()
      .optional()
      .transform((s, ctx) => {
        try {
          return parseAllowedRegistries(s);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
          return z.NEVER;
        }
      }),
    /** Origins the billing pages may send people back to (return_to); CORS_ALLOWED_ORIGINS are allowed too. */
    BILLING_RETURN_ORIGINS: csv,
  })
  .superRefine((c, ctx) => {
    if (c.JWT_ALGORITHM === "RS256" && !c.JWT_PUBLIC_KEY?.includes("BEGIN PUBLIC KEY")) {
      ctx.addIssue({ code: "custom", path: ["JWT_PUBLIC_KEY"], message: "JWT_PUBLIC_KEY (PEM) is required when JWT_ALGORITHM=RS256" });
    }
    // A price id identifies what was bought: the same price for two tiers or packs would be ambiguous.
    const prices = [c.STRIPE_PRICE_STARTER, c.STRIPE_PRICE_PROFESSIONAL, c.STRIPE_PRICE_ENTERPRISE, ...c.STRIPE_CREDIT_PACKS.map((p) => p.price)].filter(Boolean);
    if (new Set(prices).size !== prices.length) {
      ctx.addIssue({ code: "custom", path: ["STRIPE_CREDIT_PACKS"], message: "each tier and credit pack needs its own Stripe price id" });
    }
    const packIds = c.STRIPE_CREDIT_PACKS.map((p) => p.id);
    if (new Set(packIds).size !== packIds.length) {
      ctx.addIssue({ code: "custom", path: ["STRIPE_CREDIT_PACKS"], message: "credit pack ids must be unique" });
    }
    for (const o of c.BILLING_RETURN_ORIGINS) {
      if (!/^https?:\/\/[^/?#]+$/.test(o)) ctx.addIssue({ code: "custom", path: ["BILLING_RETURN_ORIGINS"], message: `${o} is not an origin (scheme://host[:port])` });
    }
    if (c.ENVIRONMENT === "production") {
      for (const k of ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"] as const) {
        if (!c[k]) ctx.addIssue({ code: "custom", path: [k], message: `${k} is required in production` });
      }
      if (c.STRIPE_API_BASE) ctx.addIssue({ code: "custom", path: ["STRIPE_API_BASE"], message: "STRIPE_API_BASE must not be set in production" });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

const cache = new WeakMap<object, Config>();

/** Parses the Worker's env into a Config once per env object; throws ConfigError naming each problem. */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`));
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    db: Database;
    auth: RequestContext;
  };
};

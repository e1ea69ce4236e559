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

const ConfigBase = z.object({
  /** staging and production are deployments: they refuse development values (deploymentProblems). */
  ENVIRONMENT: z.enum(["development", "test", "staging", "production"]).default("development"),
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
   * A Cloudflare Access service token for the runner's hostname (the Cloudflare Tunnel in front of the
   * runner, docs/deploy.md): sent as CF-Access-Client-Id / CF-Access-Client-Secret on every call to
   * RUNNER_URL. Required in staging and production; the HMAC signature is checked behind it as always.
   */
  RUNNER_ACCESS_CLIENT_ID: z.string().trim().min(1).optional(),
  RUNNER_ACCESS_CLIENT_SECRET: z.string().trim().min(1).optional(),
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
});

const ConfigSchema = ConfigBase.superRefine((c, ctx) => {
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
  if (c.ENVIRONMENT === "staging" || c.ENVIRONMENT === "production") {
    for (const [path, message] of deploymentProblems(c)) ctx.addIssue({ code: "custom", path: [path], message });
  }
});

/** What a development value looks like: .dev.vars.example's secrets and placeholders. */
const DEV_SECRET = /dev-only|change-me|placeholder/i;
const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?|0\.0\.0\.0)$/i;

/**
 * Why a staging or production deployment must not start with this configuration: development
 * secrets, local or plain-http URLs, the fake Stripe API, test-mode Stripe keys in production, a
 * runner without its Access service token, and registry exceptions for local addresses.
 */
function deploymentProblems(c: z.output<typeof ConfigBase>): [string, string][] {
  const env = c.ENVIRONMENT;
  const out: [string, string][] = [];
  const secrets = ["JWT_SECRET_KEY", "JWT_SECRET_KEY_PREVIOUS", "RUNNER_SECRET", "RUNNER_SECRET_PREVIOUS", "OPERATOR_TOKEN", "SESSION_SECRET", "BASE_VEXXY_WEBHOOK_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "RUNNER_ACCESS_CLIENT_SECRET"] as const;
  for (const k of secrets) {
    if (c[k] && DEV_SECRET.test(c[k])) out.push([k, `${k} is a development value; set a real one with \`wrangler secret put ${k} --env ${env}\``]);
  }
  const distinct = new Set([c.JWT_SECRET_KEY, c.RUNNER_SECRET, c.OPERATOR_TOKEN, c.SESSION_SECRET]);
  if (distinct.size < 4) out.push(["JWT_SECRET_KEY", "JWT_SECRET_KEY, RUNNER_SECRET, OPERATOR_TOKEN and SESSION_SECRET must be four different secrets"]);
  const urls = { PUBLIC_BASE_URL: c.PUBLIC_BASE_URL, RUNNER_URL: c.RUNNER_URL, BASE_VEXXY_URL: c.BASE_VEXXY_URL, BASE_VEXXY_WEBHOOK_URL: c.BASE_VEXXY_WEBHOOK_URL };
  for (const [k, v] of Object.entries(urls)) {
    if (!v) continue;
    const u = new URL(v);
    if (u.protocol !== "https:") out.push([k, `${k} must be an https:// URL in ${env} (is ${u.protocol}//…)`]);
    if (LOCAL_HOST.test(u.hostname)) out.push([k, `${k} points at this machine (${u.hostname}), a development value`]);
  }
  for (const o of c.CORS_ALLOWED_ORIGINS) {
    if (/^https?:\/\/(localhost|127\.|\[::1\])/i.test(o)) out.push(["CORS_ALLOWED_ORIGINS", `${o} is a local origin, a development value`]);
  }
  if (c.STRIPE_API_BASE) out.push(["STRIPE_API_BASE", `STRIPE_API_BASE must not be set in ${env} (it sends payments to a fake Stripe API)`]);
  for (const k of ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"] as const) {
    if (!c[k]) out.push([k, `${k} is required in ${env}`]);
  }
  if (env === "production") {
    if (c.STRIPE_SECRET_KEY && !/^(sk|rk)_live_/.test(c.STRIPE_SECRET_KEY)) out.push(["STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY must be a live key (sk_live_… or rk_live_…) in production"]);
    if (c.STRIPE_PUBLISHABLE_KEY && !c.STRIPE_PUBLISHABLE_KEY.startsWith("pk_live_")) out.push(["STRIPE_PUBLISHABLE_KEY", "STRIPE_PUBLISHABLE_KEY must be a live key (pk_live_…) in production"]);
  }
  if (!c.RUNNER_ACCESS_CLIENT_ID || !c.RUNNER_ACCESS_CLIENT_SECRET) {
    out.push(["RUNNER_ACCESS_CLIENT_ID", `RUNNER_ACCESS_CLIENT_ID and RUNNER_ACCESS_CLIENT_SECRET (the Access service token in front of the runner) are required in ${env}`]);
  }
  for (const r of c.RUNNER_ALLOWED_REGISTRIES) {
    const host = String(r).replace(/:\d+$/, "");
    if (LOCAL_HOST.test(host)) out.push(["RUNNER_ALLOWED_REGISTRIES", `${r} is a local registry, a development value`]);
  }
  return out;
}

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

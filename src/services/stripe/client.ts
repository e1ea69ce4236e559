/**
 * The Stripe SDK as this service uses it: the fetch HTTP client (Workers have no node:http) and, for
 * tests and local development only, a base URL pointing at the local fake Stripe API
 * (STRIPE_API_BASE, refused in production by the config schema).
 */
import Stripe from "stripe";
import type { Config } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";

export type { Stripe };

/**
 * The Stripe API version this service reads and writes, sent on every request (Stripe-Version) and
 * required of every webhook event. The SDK's type admits only the version it was generated for, so an
 * SDK upgrade that moves it fails the typecheck here until the service and the vendored spec
 * (test/fixtures/stripe-openapi) have been brought to the new version.
 */
export const STRIPE_API_VERSION = "2026-10-28.endive" satisfies Stripe.LatestApiVersion;

const clients = new Map<string, Stripe>();

/** One client per (key, base URL) per isolate. */
export function stripeClient(config: Config): Stripe {
  const key = config.STRIPE_SECRET_KEY;
  if (!key) throw new ApiError("SERVICE_UNAVAILABLE", "Payments are not configured (STRIPE_SECRET_KEY is missing)");
  const id = `${key}|${config.STRIPE_API_BASE ?? ""}`;
  let client = clients.get(id);
  if (!client) {
    const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
    client = new Stripe(key, {
      apiVersion: STRIPE_API_VERSION,
      httpClient: Stripe.createFetchHttpClient(),
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      ...(base
        ? {
            host: base.hostname,
            port: Number(base.port || (base.protocol === "https:" ? 443 : 80)),
            protocol: base.protocol === "https:" ? ("https" as const) : ("http" as const),
          }
        : {}),
    });
    clients.set(id, client);
  }
  return client;
}

/** The WebCrypto signature verifier (Workers have no node:crypto HMAC for the SDK's default). */
export const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** Runs a Stripe API call; a Stripe failure becomes 502 EXTERNAL_SERVICE_ERROR naming Stripe's error type. */
export async function callStripe<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) {
      throw new ApiError("EXTERNAL_SERVICE_ERROR", `Stripe refused to ${what}: ${err.message}`, {
        stripe_error_type: err.rawType ?? err.type,
        stripe_error_code: err.code ?? null,
        stripe_request_id: err.requestId ?? null,
      });
    }
    throw err;
  }
}

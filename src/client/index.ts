/**
 * A typed TypeScript client for the public API, from Hono's RPC types: request bodies, query and
 * path parameters and response bodies are checked at compile time against the server's own zod
 * schemas. Import it from the base application (or any TypeScript service):
 *
 *   import { createPremiumClient } from "vexxy-premium/client";
 *   const api = createPremiumClient("http://premium-service:8001", token);
 *   const res = await api.api.v1.analysis.submit.$post({ json: { image_ref, image_digest, config: { ports: [80] } } });
 *   if (res.status === 201) console.log((await res.json()).job_id);
 */
import { hc, type ClientRequestOptions } from "hono/client";
import type { AppType } from "../app.js";

export type PremiumClient = ReturnType<typeof hc<AppType>>;

export function createPremiumClient(baseUrl: string, token?: string, options: ClientRequestOptions = {}): PremiumClient {
  return hc<AppType>(baseUrl, {
    ...options,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...((options.headers as Record<string, string>) ?? {}) },
  });
}

export type { AppType };

import type { Config } from "../../env.js";

/**
 * A return target for the success/cancel pages: an absolute http(s) URL on an allowed origin
 * (BILLING_RETURN_ORIGINS, CORS_ALLOWED_ORIGINS, or this service) — anything else is dropped, so
 * the pages are never an open redirect.
 */
export function safeReturnTo(config: Config, value: string | null | undefined): string | null {
  if (!value || value.length > 2000) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  if (url.username || url.password) return null;
  const allowed = new Set([...config.BILLING_RETURN_ORIGINS, ...config.CORS_ALLOWED_ORIGINS, new URL(config.PUBLIC_BASE_URL).origin]);
  return allowed.has(url.origin) ? url.toString() : null;
}

/** Browser-like requests to the billing pages: cookies, forms, no redirect following. */
import { exports } from "cloudflare:workers";
import { randomAddress } from "../support/http.js";
import { signHs256, premiumClaims, type Claims } from "../support/tokens.js";

const ORIGIN = "http://premium.test";

export async function page(path: string, init: { method?: string; cookie?: string; form?: Record<string, string>; origin?: string | null } = {}) {
  const headers: Record<string, string> = { "CF-Connecting-IP": randomAddress() };
  if (init.cookie) headers.Cookie = init.cookie;
  let body: string | undefined;
  if (init.form) {
    body = new URLSearchParams(init.form).toString();
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (init.origin !== null) headers.Origin = init.origin ?? ORIGIN;
  }
  const res = await (exports as unknown as { default: Fetcher }).default.fetch(`${ORIGIN}${path}`, {
    method: init.method ?? (body ? "POST" : "GET"),
    headers,
    body,
    redirect: "manual",
  });
  return { res, html: await res.text() };
}

/** `name=value` pairs from the response's Set-Cookie headers (merged with `prior`). */
export function cookies(res: Response, prior = ""): string {
  const jar = new Map(prior.split("; ").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const name = pair!.slice(0, pair!.indexOf("="));
    const value = pair!.slice(pair!.indexOf("=") + 1);
    if (value === "" || /max-age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** A sign-in link token as the base application would mint it: the premium token's claims + jti, 2 minutes. */
export async function signInLinkToken(over: Partial<Claims> = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = premiumClaims({ is_admin: true, iat: now, exp: now + 120, jti: crypto.randomUUID(), ...over });
  return { token: await signHs256(claims), claims };
}

/** Signs in through a sign-in link; returns the session cookie and the identity. */
export async function signIn(over: Partial<Claims> = {}) {
  const { token, claims } = await signInLinkToken(over);
  const { res } = await page(`/billing?sign_in_token=${token}`);
  if (res.status !== 303) throw new Error(`sign-in link failed: ${res.status}`);
  return { cookie: cookies(res), orgId: claims.org_id as string, claims };
}

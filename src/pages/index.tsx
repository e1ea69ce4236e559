/**
 * The billing pages (/billing/*): server-rendered, signed-in through a session cookie (password login
 * or a single-use sign-in link from the base application). Every form POST checks the Origin and a
 * per-session CSRF token. Members see a read-only view; only admins may buy or change plans.
 */
import { Hono, type Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { log } from "../lib/log.js";
import { getAccount } from "../services/billing/getAccount.js";
import { listBillingEvents } from "../services/billing/listBillingEvents.js";
import { loginUser } from "../services/accounts/loginUser.js";
import { verifyPremiumToken } from "../services/identity/tokens.js";
import { provisionIdentity } from "../services/identity/provision.js";
import { stripeClient } from "../services/stripe/client.js";
import { openPortal, paidTiers, purchaseCredits, purchaseTier } from "../services/stripe/checkout.js";
import { clientAddress } from "../lib/client-address.js";
import { logAuthFailure } from "../middleware/auth-log.js";
import { exchangeSignInLink } from "../services/sessions/signInLink.js";
import { safeReturnTo } from "../services/sessions/returnTo.js";
import { SESSION_COOKIE, cookieOptions, createSession, randomToken, readSession, sameToken, type Session } from "../services/sessions/session.js";
import { TIER_NAMES, type TierName } from "../lib/tiers.js";
import { listAnalyses } from "../services/analysis/listAnalyses.js";
import { CreditsPage, ErrorPage, LoginPage, OverviewPage, PlansPage, PortalPage, ResultPage, StripeUnavailablePage } from "./views.js";

type PageEnv = { Bindings: Env; Variables: AppEnv["Variables"] & { session: Session | null } };
type Ctx = Context<PageEnv>;

const LOGIN_CSRF_COOKIE = "vexxy_login_csrf";

export const pageRoutes = new Hono<PageEnv>();

pageRoutes.use("*", async (c, next) => {
  const config = c.get("config");
  const url = new URL(c.req.url);
  const signInToken = url.searchParams.get("sign_in_token");
  if (signInToken !== null && c.req.method === "GET") {
    // Exchanged once for the cookie, then removed from the URL (and so from history and Referer).
    url.searchParams.delete("sign_in_token");
    const identity = await exchangeSignInLink(c.env.DB, signInToken, config).catch(async (err: unknown) => {
      if (err instanceof ApiError) await logAuthFailure(c, "sign_in_link", err.message, signInToken);
      throw err;
    });
    await provisionIdentity(c.env.DB, identity);
    const { token } = await createSession(identity, config);
    setCookie(c, SESSION_COOKIE, token, cookieOptions(config));
    securityHeaders(c);
    return c.redirect(`${url.pathname}${url.search}`, 303);
  }
  c.set("session", await readSession(getCookie(c, SESSION_COOKIE), config));
  await next();
  securityHeaders(c);
});

function securityHeaders(c: Ctx) {
  c.header("Cache-Control", "no-store");
  c.header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'");
  c.header("X-Frame-Options", "DENY");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
}

pageRoutes.onError(async (err, c) => {
  const session = c.get("session") ?? null;
  if (err instanceof ApiError && err.code === "EXTERNAL_SERVICE_ERROR" && c.req.method === "POST" && session) {
    // Stripe could not be reached or refused: say so in words, with a button that sends the same form again.
    log("warn", "billing page: Stripe unavailable", { request_id: c.get("requestId"), path: new URL(c.req.url).pathname, error: err.message });
    const body = await c.req.parseBody().catch(() => ({}));
    const fields = Object.fromEntries(Object.entries(body).filter(([k, v]) => typeof v === "string" && k !== "csrf")) as Record<string, string>;
    securityHeaders(c);
    // Stripe's own outage or no connection at all, as opposed to Stripe declining this request.
    const type = String((err.details as { stripe_error_type?: unknown } | null)?.stripe_error_type ?? "");
    const unreachable = type === "api_error" || /connection/i.test(type);
    return c.html(
      <StripeUnavailablePage session={session} action={new URL(c.req.url).pathname} fields={fields} declined={unreachable ? null : err.message} />,
      502,
    );
  }
  if (err instanceof ApiError) {
    securityHeaders(c);
    return c.html(<ErrorPage session={session} status={err.status} message={err.message} />, err.status as 400);
  }
  log("error", "billing page failed", { request_id: c.get("requestId"), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  securityHeaders(c);
  return c.html(<ErrorPage session={session} status={500} message="Something went wrong on our side. Please try again." />, 500);
});

/** The signed-in session, or a redirect to the login page that comes back here. */
function signedIn(c: Ctx): Session | Response {
  const session = c.get("session");
  if (session) return session;
  const url = new URL(c.req.url);
  return c.redirect(`/billing/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
}

function sameOrigin(c: Ctx): boolean {
  const own = new Set([new URL(c.req.url).origin, new URL(c.get("config").PUBLIC_BASE_URL).origin]);
  const origin = c.req.header("Origin");
  if (origin) return own.has(origin);
  const referer = c.req.header("Referer");
  if (!referer) return false;
  try {
    return own.has(new URL(referer).origin);
  } catch {
    return false;
  }
}

/** A form POST from a signed-in session: same origin and the session's CSRF token, else 403. */
async function formPost(c: Ctx, admin: boolean): Promise<{ session: Session; form: Record<string, string> } | Response> {
  const s = signedIn(c);
  if (s instanceof Response) return s;
  const body = await c.req.parseBody();
  const form = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  if (!sameOrigin(c) || !sameToken(form.csrf, s.csrf)) throw new ApiError("FORBIDDEN", "The form could not be verified (cross-site request or expired page). Reload the page and try again.");
  if (admin && !s.isAdmin) throw new ApiError("FORBIDDEN", "Only organization admins may buy credits or change the plan.");
  return { session: s, form };
}

const account = (c: Ctx, s: Session) => getAccount({ env: c.env, orgId: s.orgId });
const services = (c: Ctx, s: Session, returnTo: string | null) => {
  const config = c.get("config");
  return { db: c.get("db"), config, stripe: stripeClient(config), orgId: s.orgId, returnTo };
};

pageRoutes.get("/", async (c) => {
  const s = signedIn(c);
  if (s instanceof Response) return s;
  const [acct, events, jobs] = await Promise.all([
    account(c, s),
    listBillingEvents({ env: c.env, db: c.get("db"), orgId: s.orgId, limit: 10, offset: 0 }),
    listAnalyses({ env: c.env, db: c.get("db"), orgId: s.orgId, limit: 10 }).then((rows) =>
      rows.map((j) => ({ id: j.id, status: j.status, image_ref: j.imageRef, created_at: j.createdAt })),
    ),
  ]);
  return c.html(<OverviewPage session={s} account={acct} events={events} jobs={jobs} />);
});

pageRoutes.get("/subscribe", async (c) => {
  const s = signedIn(c);
  if (s instanceof Response) return s;
  const config = c.get("config");
  return c.html(<PlansPage session={s} account={await account(c, s)} buyable={paidTiers(config)} returnTo={safeReturnTo(config, c.req.query("return_to"))} />);
});

pageRoutes.post("/subscribe", async (c) => {
  const r = await formPost(c, true);
  if (r instanceof Response) return r;
  const tier = r.form.tier as TierName;
  if (!TIER_NAMES.includes(tier) || tier === "free") throw new ApiError("VALIDATION_ERROR", "Choose a paid plan.");
  const returnTo = safeReturnTo(c.get("config"), r.form.return_to);
  const result = await purchaseTier({ ...services(c, r.session, returnTo), tier, account: await account(c, r.session) });
  if (result.kind === "checkout") return c.redirect(result.url, 303);
  const q = new URLSearchParams({ change: result.change, tier: result.tier, effective_at: result.effective_at });
  if (returnTo) q.set("return_to", returnTo);
  return c.redirect(`/billing/success?${q}`, 303);
});

pageRoutes.get("/credits", async (c) => {
  const s = signedIn(c);
  if (s instanceof Response) return s;
  const config = c.get("config");
  return c.html(<CreditsPage session={s} account={await account(c, s)} packs={config.STRIPE_CREDIT_PACKS} returnTo={safeReturnTo(config, c.req.query("return_to"))} />);
});

pageRoutes.post("/credits", async (c) => {
  const r = await formPost(c, true);
  if (r instanceof Response) return r;
  const result = await purchaseCredits({ ...services(c, r.session, safeReturnTo(c.get("config"), r.form.return_to)), packId: r.form.pack ?? "" });
  return c.redirect(result.kind === "checkout" ? result.url : "/billing", 303);
});

pageRoutes.get("/portal", (c) => {
  const s = signedIn(c);
  if (s instanceof Response) return s;
  return c.html(<PortalPage session={s} />);
});

pageRoutes.post("/portal", async (c) => {
  const r = await formPost(c, true);
  if (r instanceof Response) return r;
  const { url } = await openPortal(services(c, r.session, null));
  return c.redirect(url, 303);
});

pageRoutes.get("/success", (c) => {
  const change = c.req.query("change");
  const tier = c.req.query("tier");
  const when = c.req.query("effective_at");
  const message =
    change === "downgrade" && tier
      ? `Your plan changes to ${tier} at the end of the current period${when ? ` (${when.slice(0, 10)})` : ""}.`
      : change === "upgrade" && tier
        ? `Your plan is being upgraded to ${tier}; it applies as soon as Stripe confirms the payment.`
        : "Payment received. Your plan and credits update as soon as Stripe confirms it, usually within seconds.";
  return c.html(<ResultPage session={c.get("session")} outcome={change ? "changed" : "success"} message={message} returnTo={safeReturnTo(c.get("config"), c.req.query("return_to"))} />);
});

pageRoutes.get("/cancel", (c) =>
  c.html(<ResultPage session={c.get("session")} outcome="cancel" message="The payment was cancelled; nothing was charged." returnTo={safeReturnTo(c.get("config"), c.req.query("return_to"))} />),
);

/** Only a local billing path may be a post-login destination (never another host). */
function safeNext(next: string | undefined): string {
  return next && /^\/billing(\/[a-z]*)?(\?[^\\#]*)?$/.test(next) ? next : "/billing";
}

pageRoutes.get("/login", (c) => {
  if (c.get("session")) return c.redirect(safeNext(c.req.query("next")), 303);
  const csrf = randomToken();
  setCookie(c, LOGIN_CSRF_COOKIE, csrf, cookieOptions(c.get("config"), 3600));
  return c.html(<LoginPage csrf={csrf} next={safeNext(c.req.query("next"))} />);
});

pageRoutes.post("/login", async (c) => {
  const config = c.get("config");
  const body = await c.req.parseBody();
  const field = (k: string) => (typeof body[k] === "string" ? (body[k] as string) : "");
  if (!sameOrigin(c) || !sameToken(field("csrf"), getCookie(c, LOGIN_CSRF_COOKIE))) {
    throw new ApiError("FORBIDDEN", "The sign-in form could not be verified. Reload the page and try again.");
  }
  const next = safeNext(field("next"));
  try {
    const { access_token } = await loginUser({
      db: c.get("db"),
      config,
      email: field("email"),
      password: field("password"),
      clientAddress: clientAddress(c.req.raw.headers),
    });
    const identity = await verifyPremiumToken(access_token, config);
    const { token } = await createSession(identity, config);
    deleteCookie(c, LOGIN_CSRF_COOKIE, { path: "/billing" });
    setCookie(c, SESSION_COOKIE, token, cookieOptions(config));
    return c.redirect(next, 303);
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== "UNAUTHORIZED") throw err;
    const csrf = randomToken();
    setCookie(c, LOGIN_CSRF_COOKIE, csrf, cookieOptions(config, 3600));
    return c.html(<LoginPage csrf={csrf} next={next} email={field("email")} error="Invalid email or password." />, 401);
  }
});

pageRoutes.post("/logout", async (c) => {
  const r = await formPost(c, false);
  if (r instanceof Response) return r;
  deleteCookie(c, SESSION_COOKIE, { path: "/billing" });
  return c.redirect("/billing/login", 303);
});

/** The billing pages: sign-in (password and single-use sign-in link), CSRF, read-only members, Stripe redirects. */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { call } from "../support/http.js";
import { ledgerFor } from "../../src/ledger/client.js";
import { cookies, csrfOf, signInLinkToken, page, signIn } from "./support.js";
import { fake, deliverAll } from "../stripe/support.js";

describe("sign-in", () => {
  it("sends anonymous visitors to the login page, remembering where they were going", async () => {
    for (const path of ["/billing", "/billing/subscribe", "/billing/credits", "/billing/portal"]) {
      const { res } = await page(path);
      expect(res.status).toBe(303);
      expect(res.headers.get("Location")).toBe(`/billing/login?next=${encodeURIComponent(path)}`);
    }
  });

  it("exchanges a sign-in link token once for an HttpOnly SameSite=Lax cookie and removes it from the URL", async () => {
    const { token } = await signInLinkToken();
    const { res } = await page(`/billing/subscribe?return_to=https%3A%2F%2Fvexxy.example.com%2F&sign_in_token=${token}`);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/billing/subscribe?return_to=https%3A%2F%2Fvexxy.example.com%2F");
    const set = res.headers.getSetCookie().find((l) => l.startsWith("vexxy_billing_session="))!;
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Lax/i);
    expect(set).toMatch(/Path=\/billing/);
    const cookie = cookies(res);
    const { res: ok, html } = await page("/billing/subscribe", { cookie });
    expect(ok.status).toBe(200);
    expect(html).toContain("Current plan");

    const again = await page(`/billing?sign_in_token=${token}`);
    expect(again.res.status).toBe(401);
    expect(again.html).toContain("already used");
  });

  it("refuses sign-in link tokens without a jti, long-lived ones, future-dated ones, and forged ones", async () => {
    const now = Math.floor(Date.now() / 1000);
    // No jti; a day long; and 300 s long but issued an hour from now (exp − iat alone would pass it).
    for (const over of [{ jti: undefined }, { exp: now + 24 * 3600 }, { iat: now + 3600, exp: now + 3900 }]) {
      const { token } = await signInLinkToken(over);
      expect((await page(`/billing?sign_in_token=${token}`)).res.status).toBe(401);
    }
    const { token } = await signInLinkToken();
    const forged = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect((await page(`/billing?sign_in_token=${forged}`)).res.status).toBe(401);
    expect((await page("/billing", { cookie: "vexxy_billing_session=eyJhbGciOiJIUzI1NiJ9.e30.x" })).res.status).toBe(303);
  });

  it("signs in with email and password (login CSRF cookie + field) and rejects a wrong password", async () => {
    const email = `pages-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const reg = await call("/api/v1/auth/register", { body: { email, password: "correct horse battery", name: "Page User", organization_name: "Page Org" } });
    expect(reg.status).toBe(201);
    const login = await page("/billing/login?next=%2Fbilling%2Fcredits");
    let cookie = cookies(login.res);
    const wrong = await page("/billing/login", { cookie, form: { csrf: csrfOf(login.html), next: "/billing/credits", email, password: "nope-nope" } });
    expect(wrong.res.status).toBe(401);
    expect(wrong.html).toContain("Invalid email or password");
    cookie = cookies(wrong.res, cookie);
    const noCsrf = await page("/billing/login", { cookie, form: { csrf: "forged", email, password: "correct horse battery" } });
    expect(noCsrf.res.status).toBe(403);
    const ok = await page("/billing/login", { cookie, form: { csrf: csrfOf(wrong.html), next: "/billing/credits", email, password: "correct horse battery" } });
    expect(ok.res.status).toBe(303);
    expect(ok.res.headers.get("Location")).toBe("/billing/credits");
    const credits = await page("/billing/credits", { cookie: cookies(ok.res, cookie) });
    expect(credits.res.status).toBe(200);
    expect(credits.html).toContain("1,000 credits");
  });

  it("never redirects off-site after login", async () => {
    for (const next of ["//evil.example.net/", "https://evil.example.net/", "/billing/../../x", "/\\evil.example.net"]) {
      const { html } = await page(`/billing/login?next=${encodeURIComponent(next)}`);
      expect(html).toContain('name="next" value="/billing"');
    }
  });

  it("signs out (a CSRF-checked POST) by clearing the cookie", async () => {
    const { cookie } = await signIn();
    const { html } = await page("/billing", { cookie });
    const out = await page("/billing/logout", { cookie, form: { csrf: csrfOf(html) } });
    expect(out.res.status).toBe(303);
    expect(cookies(out.res, cookie)).not.toContain("vexxy_billing_session");
  });
});

describe("pages", () => {
  it("overview shows plan, status, period, usage bars, balance and recent billing events", async () => {
    const { cookie, orgId } = await signIn();
    await ledgerFor(env, orgId).credit({ orgId, opId: `t-${orgId}`, credits: 250, type: "operator_adjustment", description: "Goodwill credits" });
    await ledgerFor(env, orgId).deliver(orgId);
    const { res, html } = await page("/billing", { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(html).toMatch(/<html lang="en">/);
    expect(html).toMatch(/data-testid="tier">Free</);
    expect(html).toMatch(/<meter [^>]*max="10"[^>]*value="0"/);
    expect(html).toContain("0 of 10 analyses used");
    expect(html).toContain("0 of 100 credits used");
    expect(html).toMatch(/data-testid="balance">350</);
    expect(html).toContain("Goodwill credits");
    expect(html).toContain("Recent analyses");
  });

  it("shows why analyses are paused when the subscription is past due, with a link to fix it", async () => {
    const { cookie, orgId } = await signIn();
    await ledgerFor(env, orgId).changePlan({ orgId, opId: `pd-${orgId}`, tier: "starter", status: "past_due", reason: "test" });
    const { html } = await page("/billing", { cookie });
    expect(html).toMatch(/role="alert"/);
    expect(html).toContain("The last payment failed");
    expect(html).toContain('href="/billing/portal"');
  });

  it("says when a scheduled downgrade and a cancellation take effect", async () => {
    const { cookie, orgId } = await signIn();
    const ledger = ledgerFor(env, orgId);
    const end = (await ledger.getAccount(orgId)).current_period_end as string;
    await ledger.changePlan({ orgId, opId: `down-${orgId}`, tier: "professional", status: "active", reason: "test", pendingChange: { tier: "starter", at: end } });
    expect((await page("/billing", { cookie })).html).toContain(`changes to Starter on ${end.slice(0, 10)}`);
    await ledger.changePlan({ orgId, opId: `cancel-${orgId}`, tier: "professional", status: "active", reason: "test", pendingChange: null, cancelAtPeriodEnd: true });
    const { html } = await page("/billing", { cookie });
    expect(html).toContain(`cancels on ${end.slice(0, 10)}`);
    expect(html).not.toContain("changes to Starter");
  });

  it("pricing table marks the current tier; admins get Upgrade buttons, members a read-only view", async () => {
    const admin = await signIn();
    const { html } = await page("/billing/subscribe", { cookie: admin.cookie });
    expect(html).toMatch(/Free <span class="badge">Current plan<\/span>/);
    expect(html.match(/<button type="submit" aria-label="Upgrade to/g)).toHaveLength(3);

    const member = await signIn({ is_admin: false });
    const m = await page("/billing/subscribe", { cookie: member.cookie });
    expect(m.html).toContain("read-only");
    expect(m.html).not.toContain('action="/billing/subscribe"');
    expect(m.html).toContain("(admins only)");
    const post = await page("/billing/subscribe", { cookie: member.cookie, form: { csrf: csrfOf(m.html), tier: "starter" } });
    expect(post.res.status).toBe(403);
  });

  it("Upgrade posts to Stripe Checkout; the webhook then shows the new tier and limits", async () => {
    const { cookie, orgId } = await signIn();
    const { html } = await page("/billing/subscribe", { cookie });
    const res = (await page("/billing/subscribe", { cookie, form: { csrf: csrfOf(html), tier: "professional" } })).res;
    expect(res.status).toBe(303);
    const location = res.headers.get("Location")!;
    expect(location).toMatch(/^http:\/\/stripe\.fake\/c\/pay\/cs_test_/);
    await deliverAll(await fake.completeCheckout(location.split("/").at(-1)!));
    await ledgerFor(env, orgId).deliver(orgId);
    const after = await page("/billing", { cookie });
    expect(after.html).toMatch(/data-testid="tier">Professional</);
    expect(after.html).toContain("500 analyses, 5,000 credits");
  });

  it("refuses form posts without the session's CSRF token or from another origin", async () => {
    const { cookie } = await signIn();
    const { html } = await page("/billing/credits", { cookie });
    const csrf = csrfOf(html);
    expect((await page("/billing/credits", { cookie, form: { pack: "pack_1000" } })).res.status).toBe(403);
    expect((await page("/billing/credits", { cookie, form: { csrf: "x", pack: "pack_1000" } })).res.status).toBe(403);
    expect((await page("/billing/credits", { cookie, form: { csrf, pack: "pack_1000" }, origin: "https://evil.example.net" })).res.status).toBe(403);
    expect((await page("/billing/credits", { cookie, form: { csrf, pack: "pack_1000" }, origin: null })).res.status).toBe(403);
    const ok = await page("/billing/credits", { cookie, form: { csrf, pack: "pack_1000" } });
    expect(ok.res.status).toBe(303);
    expect(ok.res.headers.get("Location")).toMatch(/^http:\/\/stripe\.fake\/c\/pay\//);
  });

  it("portal page posts to a Stripe customer portal session", async () => {
    const { cookie } = await signIn();
    const { html } = await page("/billing/portal", { cookie });
    const res = (await page("/billing/portal", { cookie, form: { csrf: csrfOf(html) } })).res;
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toMatch(/^http:\/\/stripe\.fake\/p\/session\/bps_/);
  });

  it("success and cancel pages lead back only to allowed origins", async () => {
    const ok = await page("/billing/success?session_id=cs_test_1&return_to=https%3A%2F%2Fvexxy.example.com%2Fsettings");
    expect(ok.res.status).toBe(200);
    expect(ok.html).toContain('href="https://vexxy.example.com/settings"');
    for (const bad of ["https://evil.example.net/", "javascript:alert(1)", "//evil.example.net", "https://vexxy.example.com.evil.net/"]) {
      const { html } = await page(`/billing/cancel?return_to=${encodeURIComponent(bad)}`);
      expect(html).not.toContain("evil");
      expect(html).not.toContain("javascript:");
      expect(html).toContain("nothing was charged");
    }
  });
});

describe("billing pages under strain (issue #17)", () => {
  it("reaches the page with a trailing slash too", async () => {
    const { cookie } = await signIn();
    for (const path of ["/billing/", "/billing/credits/", "/billing/subscribe/"]) {
      const { res } = await page(path, { cookie });
      expect(res.status, path).toBe(308);
      const location = res.headers.get("Location")!;
      expect(location, path).toBe(path.slice(0, -1));
      expect((await page(location, { cookie })).res.status, location).toBe(200);
    }
    // The query string survives the redirect.
    expect((await page("/billing/credits/?return_to=x", { cookie })).res.headers.get("Location")).toBe("/billing/credits?return_to=x");
  });

  it("says in words that Stripe cannot be reached, with a retry button that repeats the request", async () => {
    const { cookie, orgId } = await signIn();
    const { html } = await page("/billing/credits", { cookie });
    const csrf = csrfOf(html);
    await fake.outage(orgId);
    try {
      const { res, html: down } = await page("/billing/credits", { cookie, form: { csrf, pack: "pack_1000" } });
      expect(res.status).toBe(502);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(down).toContain("could not reach Stripe");
      expect(down).toContain("Nothing was charged");
      expect(down).not.toContain("EXTERNAL_SERVICE_ERROR");
      // The retry button posts the same form again, with the session's CSRF token.
      const form = /<form method="post" action="\/billing\/credits">([\s\S]*?)<\/form>/.exec(down)?.[1] ?? "";
      expect(form).toContain('name="pack" value="pack_1000"');
      expect(form).toContain(`name="csrf" value="${csrf}"`);
      expect(form).toMatch(/<button[^>]*>Try again<\/button>/);
    } finally {
      await fake.outage(orgId, false);
    }
    const again = await page("/billing/credits", { cookie, form: { csrf, pack: "pack_1000" } });
    expect(again.res.status).toBe(303);
    expect(again.res.headers.get("Location")).toMatch(/^http:\/\/stripe\.fake\/c\/pay\//);
  });

  it("says what Stripe declined, in words, when Stripe answers but refuses", async () => {
    const { cookie, orgId } = await signIn();
    await ledgerFor(env, orgId).changePlan({ orgId, opId: `gone-${orgId}`, tier: "starter", status: "active", stripeSubscriptionId: "sub_does_not_exist", reason: "test" });
    const { html } = await page("/billing/subscribe", { cookie });
    const { res, html: declined } = await page("/billing/subscribe", { cookie, form: { csrf: csrfOf(html), tier: "professional" } });
    expect(res.status).toBe(502);
    expect(declined).toContain("Stripe declined the request");
    expect(declined).toContain("No such subscription");
    expect(declined).toContain("Nothing was charged");
  });
});

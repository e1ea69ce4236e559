// `npm run test:browser`: the billing pages in headless Chromium against the real Worker (`wrangler dev`,
// local D1/Durable Objects in a temp dir) and the fake Stripe API (test/support/fake-stripe) on node:http.
// Walk: sign in → overview (Free) → Plans → Upgrade → fake Checkout → Pay → success page → the webhooks
// Stripe would send, signed with the SDK's test-header generator → overview shows Professional and its
// limits; then a credit pack the same way, a sign-in link, and a member's read-only view. Screenshots of
// every page go to test-artifacts/browser/. Exits non-zero on the first failed expectation.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import Stripe from "stripe";
import { SignJWT } from "jose";
import { createFakeStripe } from "../test/support/fake-stripe/index.ts";
import { serveFakeStripe } from "../test/support/fake-stripe/server.ts";
import { fakeStripeControl } from "../test/support/fake-stripe/control.ts";
import { freePort } from "./lib/local-stack.mjs";
import { FAKE_STRIPE_PRICES } from "../test/support/secrets.ts";

const ARTIFACTS = "test-artifacts/browser";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const vars = Object.fromEntries(
  readFileSync(".dev.vars.example", "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
);

const steps = [];
function check(cond, what) {
  if (!cond) throw new Error(`FAILED: ${what}`);
  steps.push(what);
  console.log(`  ✓ ${what}`);
}


async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not come up within ${ms} ms`);
}

const state = mkdtempSync(join(tmpdir(), "vexxy-browser-"));
mkdirSync(ARTIFACTS, { recursive: true });
let worker;
let fakeServer;
let browser;
let exitCode = 0;

try {
  // 1. The fake Stripe API.
  const fake = createFakeStripe({ prices: FAKE_STRIPE_PRICES });
  fakeServer = await serveFakeStripe(fake);
  console.log(`[browser-test] fake Stripe on ${fakeServer.url}`);

  // 2. The Worker: migrations into a temp state dir, then wrangler dev on a free port.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, CI: "1" },
  });
  if (migrate.status !== 0) throw new Error("wrangler d1 migrations apply failed");
  worker = spawn(
    "npx",
    [
      "wrangler", "dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--env-file", ".dev.vars.example",
      "--var", `STRIPE_API_BASE:${fakeServer.url}`, "--var", `PUBLIC_BASE_URL:${base}`, "--var", "ENVIRONMENT:development",
      "--show-interactive-dev-session=false",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "1" }, detached: true },
  );
  let workerLog = "";
  worker.stdout.on("data", (d) => (workerLog += d));
  worker.stderr.on("data", (d) => (workerLog += d));
  worker.on("exit", (code) => {
    if (code) console.error(`[browser-test] wrangler dev exited (${code}):\n${workerLog.slice(-4000)}`);
  });
  await waitFor(`${base}/health`, 90_000);
  console.log(`[browser-test] worker on ${base}`);

  // 3. An organization and its admin (the spec's registration endpoint).
  const email = `browser-${Date.now()}@example.com`;
  const password = "browser-test-password";
  const reg = await fetch(`${base}/api/v1/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password, name: "Browser Admin", organization_name: "Browser Org" }),
  });
  check(reg.status === 201, "admin registered through POST /api/v1/auth/register");
  const admin = await reg.json();

  const stripe = new Stripe(vars.STRIPE_SECRET_KEY);
  const delivered = new Set();
  async function deliverNewEvents() {
    const fresh = fake.events().filter((e) => !delivered.has(e.id));
    for (const e of fresh) {
      const payload = JSON.stringify(e, null, 2);
      const header = await stripe.webhooks.generateTestHeaderStringAsync({ payload, secret: vars.STRIPE_WEBHOOK_SECRET });
      const r = await fetch(`${base}/api/v1/webhooks/stripe`, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header },
        body: payload,
      });
      if (r.status !== 200) throw new Error(`webhook ${e.type} answered ${r.status}: ${await r.text()}`);
      delivered.add(e.id);
    }
    return fresh.map((e) => e.type);
  }
  /**
   * The overview reads billing events from D1, which the ledger's outbox fills within a few seconds
   * (at most one drain per OUTBOX_MIN_INTERVAL_MS per organization): reload until `ready` holds.
   */
  const overviewWhen = async (ready, ms = 15_000) => {
    const until = Date.now() + ms;
    for (;;) {
      await page.goto(`${base}/billing`);
      if ((await ready()) || Date.now() > until) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  // 4. The browser.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /**
   * A screenshot that is checked to render (issue #17): nothing wider than the page at a desktop and a
   * phone width, no element's text cut off by its box, and every amount visible.
   */
  const rendered = async (name, amounts) => {
    for (const [width, suffix] of [[1100, ""], [390, "-phone"]]) {
      await page.setViewportSize({ width, height: 900 });
      await page.screenshot({ path: join(ARTIFACTS, `${name}${suffix}.png`), fullPage: true });
      const problems = await page.evaluate(() => {
        const out = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth + 1) {
          const wide = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1).map((el) => `<${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ""}>`);
          out.push(`page is ${root.scrollWidth}px wide in a ${root.clientWidth}px window (${wide.slice(0, 6).join(" ")})`);
        }
        for (const el of document.body.querySelectorAll("*")) {
          const style = getComputedStyle(el);
          if (style.display === "none" || style.overflowX === "visible" || style.overflowX === "auto" || style.overflowX === "scroll") continue;
          if (el.scrollWidth > el.clientWidth + 1) out.push(`<${el.tagName.toLowerCase()}> clips its content (${el.scrollWidth}px in ${el.clientWidth}px)`);
        }
        return out;
      });
      check(problems.length === 0, `${name}${suffix}: renders without overflow${problems.length ? ` — ${problems.join("; ")}` : ""}`);
      for (const amount of amounts) check(await page.getByText(amount, { exact: false }).first().isVisible(), `${name}${suffix}: shows ${amount}`);
    }
    await page.setViewportSize({ width: 1100, height: 900 });
  };

  await page.goto(`${base}/billing`);
  check(page.url().startsWith(`${base}/billing/login?next=`), "anonymous visit to /billing lands on the login page");
  await shot("01-login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/billing`);
  check((await page.getByTestId("tier").textContent()) === "Free", "signed in: overview shows the Free plan");
  check((await page.locator("meter").count()) === 2, "overview shows usage bars for analyses and credits");
  check((await page.getByTestId("balance").textContent()) === "100", "overview shows the free grant as the balance");
  const cookie = (await context.cookies()).find((c) => c.name === "vexxy_billing_session");
  check(cookie?.httpOnly === true && cookie.sameSite === "Lax", "session cookie is HttpOnly and SameSite=Lax");
  await rendered("02-overview-free", ["100 credits", "10 analyses"]);

  await page.getByRole("link", { name: "Plans" }).first().click();
  await page.waitForURL(`${base}/billing/subscribe`);
  check((await page.locator(".card.current h2").textContent())?.includes("Free"), "plans page marks the current tier");
  await rendered("03-plans", ["10 analyses and 100 credits", "100 analyses and 1,000 credits", "500 analyses and 5,000 credits", "Unlimited analyses"]);
  await page.getByRole("button", { name: "Upgrade to professional" }).click();
  await page.waitForURL(/\/c\/pay\/cs_test_/);
  check(page.url().startsWith(`${fakeServer.url}/c/pay/cs_test_`), "Upgrade lands on the (fake) Stripe Checkout URL");
  await shot("04-checkout");
  await page.getByRole("button", { name: "Pay" }).click();
  await page.waitForURL(/\/billing\/success\?session_id=cs_test_/);
  check(page.url().startsWith(`${base}/billing/success?session_id=cs_test_`), "paying returns to the success page with the session id");
  await shot("05-success");

  const types = await deliverNewEvents();
  check(types.includes("checkout.session.completed") && types.includes("customer.subscription.created"), `signed webhooks delivered: ${types.join(", ")}`);
  await overviewWhen(async () => (await page.getByRole("cell", { name: /Monthly plan grant: 5000 credits/ }).count()) > 0);
  check((await page.getByTestId("tier").textContent()) === "Professional", "after the webhook the overview shows Professional");
  check((await page.getByTestId("limits").textContent())?.includes("500 analyses, 5,000 credits"), "and the Professional limits");
  check((await page.getByTestId("balance").textContent()) === "5,000", "and the Professional grant as the balance");
  await rendered("06-overview-professional", ["500 analyses, 5,000 credits", "5,000"]);

  await page.getByRole("link", { name: "Credits" }).first().click();
  await rendered("07-credits", ["1,000 credits", "5,000 credits", "$100.00", "$450.00"]);
  await page.getByRole("button", { name: /Buy 1000 credits/ }).click();
  await page.waitForURL(/\/c\/pay\/cs_test_/);
  await page.getByRole("button", { name: "Pay" }).click();
  await page.waitForURL(/\/billing\/success/);
  const packEvents = await deliverNewEvents();
  check(packEvents.includes("payment_intent.succeeded"), `credit pack webhooks delivered: ${packEvents.join(", ")}`);
  await overviewWhen(async () => (await page.getByRole("cell", { name: "Purchased 1000 credits for $100.00" }).count()) > 0);
  check((await page.getByTestId("balance").textContent()) === "6,000", "the pack is credited once: balance 6,000");
  check((await page.getByRole("cell", { name: "Purchased 1000 credits for $100.00" }).count()) === 1, "recent billing events list the purchase");
  await shot("08-overview-after-pack");

  await page.getByRole("link", { name: "Payment methods & invoices" }).click();
  await shot("09-portal");
  await page.getByRole("button", { name: "Open the Stripe customer portal" }).click();
  await page.waitForURL(/\/p\/session\/bps_/);
  check(page.url().startsWith(`${fakeServer.url}/p/session/`), "the portal button leads to the (fake) Stripe customer portal");

  // Stripe cannot be reached: the page says so in words, and Try again repeats the request (issue #17).
  const control = fakeStripeControl(fakeServer.url);
  await page.goto(`${base}/billing/portal/`);
  check(page.url() === `${base}/billing/portal`, "/billing/portal/ (trailing slash) reaches the portal page");
  await control.outage(admin.organization_id);
  await page.getByRole("button", { name: "Open the Stripe customer portal" }).click();
  await page.getByRole("button", { name: "Try again" }).waitFor();
  check((await page.getByText("could not reach Stripe").count()) === 1, "with Stripe unreachable the page says so in words, with a Try again button");
  await rendered("13-stripe-unreachable", ["Nothing was charged"]);
  await control.outage(admin.organization_id, false);
  await page.getByRole("button", { name: "Try again" }).click();
  await page.waitForURL(/\/p\/session\/bps_/);
  check(page.url().startsWith(`${fakeServer.url}/p/session/`), "Try again, once Stripe is back, opens the portal");

  // The renewal payment fails: past due, analyses paused, and the page says how to fix it.
  const subscriptionId = fake.events().find((e) => e.type === "customer.subscription.created")?.data.object.id;
  await control.renew(subscriptionId, "failed");
  const failedTypes = await deliverNewEvents();
  check(failedTypes.includes("invoice.payment_failed"), `failed renewal webhooks delivered: ${failedTypes.join(", ")}`);
  await overviewWhen(async () => (await page.getByTestId("status").textContent())?.startsWith("past due"));
  check((await page.getByTestId("status").textContent())?.startsWith("past due"), "after a failed renewal the overview shows past due");
  check((await page.getByRole("alert").getByText("The last payment failed").count()) === 1, "and an alert that says how to fix it");
  const login = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) })).json();
  const credits = await (await fetch(`${base}/api/v1/billing/credits`, { headers: { Authorization: `Bearer ${login.access_token}` } })).json();
  check((await page.getByTestId("balance").textContent()) === credits.credit_balance.toLocaleString("en-US"), `the past-due overview shows the API's balance (${credits.credit_balance})`);
  await rendered("14-overview-past-due", ["500 analyses, 5,000 credits", credits.credit_balance.toLocaleString("en-US")]);

  // 5. A sign-in link from the base application, for a member of the same organization.
  const now = Math.floor(Date.now() / 1000);
  const signInToken = await new SignJWT({ org_id: admin.organization_id, email: `member-${now}@example.com`, is_admin: false, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(crypto.randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 120)
    .sign(new TextEncoder().encode(vars.JWT_SECRET_KEY));
  const memberContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const member = await memberContext.newPage();
  await member.goto(`${base}/billing/subscribe?sign_in_token=${signInToken}`);
  check(member.url() === `${base}/billing/subscribe`, "a sign-in link signs in and is removed from the URL");
  check((await member.getByText("read-only").count()) > 0, "a member sees the read-only view");
  // The organization is on Professional now: Starter (downgrade) and Enterprise (upgrade) are offered, disabled.
  check((await member.getByRole("button", { name: /admins only/ }).count()) === 2, "a member's plan buttons are disabled");
  await member.screenshot({ path: join(ARTIFACTS, "10-member-plans.png"), fullPage: true });
  const reuse = await memberContext.newPage();
  const second = await reuse.goto(`${base}/billing?sign_in_token=${signInToken}`);
  check(second?.status() === 401, "the same sign-in link is refused the second time");
  await reuse.screenshot({ path: join(ARTIFACTS, "11-sign-in-link-reused.png"), fullPage: true });

  await page.goto(`${base}/billing/cancel?return_to=${encodeURIComponent("http://localhost:8000/settings")}`);
  check((await page.getByRole("link", { name: "Back to VEXxy" }).getAttribute("href")) === "http://localhost:8000/settings", "cancel page leads back to an allowed origin");
  await shot("12-cancel");
  console.log(`[browser-test] passed (${steps.length} checks); screenshots in ${ARTIFACTS}/`);
} catch (err) {
  exitCode = 1;
  console.error(`[browser-test] ${err instanceof Error ? err.stack : err}`);
} finally {
  await browser?.close().catch(() => {});
  if (worker?.pid && worker.exitCode === null) {
    try {
      process.kill(-worker.pid, "SIGTERM");
    } catch {}
    await new Promise((r) => setTimeout(r, 1000));
  }
  await fakeServer?.close().catch(() => {});
  rmSync(state, { recursive: true, force: true });
  process.exit(exitCode);
}

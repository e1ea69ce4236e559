/** Shared by the Stripe suites: the fake's control client, signed deliveries, organizations with a customer. */
import Stripe from "stripe";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { call, json } from "../support/http.js";
import { tokenFor } from "../support/tokens.js";
import { FAKE_STRIPE_BASE, TEST_SECRETS } from "../support/secrets.js";
import { fakeStripeControl, type FakeEvent } from "../support/fake-stripe/control.js";
import { ledgerFor } from "../../src/ledger/client.js";
import { createDb, schema } from "../../src/db/client.js";

export const fake = fakeStripeControl(FAKE_STRIPE_BASE);
export type { FakeEvent };

const base = new URL(FAKE_STRIPE_BASE);
/** The SDK as a test sees Stripe (pointed at the fake); also the source of the test-header generator. */
export const stripe = new Stripe(TEST_SECRETS.STRIPE_SECRET_KEY, {
  httpClient: Stripe.createFetchHttpClient(),
  host: base.hostname,
  port: Number(base.port || 80),
  protocol: "http",
  maxNetworkRetries: 0,
});
const subtle = Stripe.createSubtleCryptoProvider();

/**
 * Problems with an event against Stripe's OpenAPI spec, as the fake checks it (test/support/fake-stripe/openapi.ts;
 * ajv runs beside the fake, outside workerd).
 */
export async function eventProblems(event: unknown): Promise<string[]> {
  const res = await fetch(`${FAKE_STRIPE_BASE}/_fake/check_event`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(event) });
  if (!res.ok) throw new Error(`fake Stripe check_event: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { problems: string[] }).problems;
}

/**
 * Delivers an event the way Stripe does: the JSON body signed with the SDK's own test-header generator.
 * The event must be one Stripe could send (checked against Stripe's OpenAPI spec), unless the test says it
 * is `malformed` on purpose — and then it must indeed fail that check, so a test of odd shapes cannot
 * quietly send well-formed ones. A fuzzer's body is `arbitrary`: either may be.
 */
export async function deliver(event: unknown, opts: { secret?: string; timestamp?: number; body?: string; malformed?: boolean; arbitrary?: boolean } = {}): Promise<Response> {
  const problems = opts.arbitrary ? [] : await eventProblems(event);
  if (opts.malformed && problems.length === 0) throw new Error(`an event declared malformed is as Stripe's spec says: ${JSON.stringify(event)?.slice(0, 200)}`);
  if (!opts.malformed && problems.length) throw new Error(`not an event Stripe could send (${(event as { type?: string })?.type}): ${problems.join("; ")}`);
  const payload = opts.body ?? JSON.stringify(event, null, 2);
  const header = await stripe.webhooks.generateTestHeaderStringAsync({
    payload: JSON.stringify(event, null, 2),
    secret: opts.secret ?? TEST_SECRETS.STRIPE_WEBHOOK_SECRET,
    timestamp: opts.timestamp,
    cryptoProvider: subtle,
  });
  return call("/api/v1/webhooks/stripe", {
    method: "POST",
    body: payload,
    headers: { "Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8" },
  });
}

/** A seeded shuffle (an LCG), so a failing order replays from its seed. */
export function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Every event `copies` times, the whole sequence shuffled by `seed`; each delivery must be acknowledged. */
export async function deliverShuffled(events: FakeEvent[], seed: number, copies = 3): Promise<void> {
  for (const e of shuffled(Array.from({ length: copies }, () => events).flat(), seed)) {
    const res = await deliver(e);
    if (res.status !== 200) throw new Error(`delivery of ${e.type} ${e.id}: ${res.status} ${await res.text()}`);
  }
}

export async function deliverAll(events: FakeEvent[]): Promise<void> {
  for (const e of events) {
    const res = await deliver(e);
    if (res.status !== 200) throw new Error(`delivery of ${e.type} ${e.id}: ${res.status} ${await res.text()}`);
  }
}

export async function newAdmin(over: { is_admin?: boolean } = {}) {
  const t = await tokenFor({ is_admin: over.is_admin ?? true });
  const orgId = t.claims.org_id as string;
  // The first authenticated call provisions the organization.
  await call("/api/v1/billing/subscription", { token: t.token });
  return { token: t.token, orgId };
}

export async function checkout(token: string, body: Record<string, unknown>) {
  const res = await call("/api/v1/payments/checkout", { token, body });
  if (res.status !== 200) throw new Error(`checkout: ${res.status} ${await res.text()}`);
  return json(res);
}

export async function customerOf(orgId: string): Promise<string> {
  const [org] = await createDb(env.DB).select().from(schema.organizations).where(eq(schema.organizations.id, orgId));
  if (!org?.stripeCustomerId) throw new Error(`organization ${orgId} has no Stripe customer`);
  return org.stripeCustomerId;
}

/** Subscribes a new organization to a tier through Checkout; returns the org, its customer, subscription and events. */
export async function subscribedOrg(tier: "starter" | "professional" | "enterprise", deliverEvents = true) {
  const admin = await newAdmin();
  const session = await checkout(admin.token, { tier });
  const events = await fake.completeCheckout(session.session_id);
  if (deliverEvents) await deliverAll(events);
  const customer = await customerOf(admin.orgId);
  const subscriptionId = events.find((e) => e.type === "customer.subscription.created")!.data.object.id as string;
  return { ...admin, customer, subscriptionId, events };
}

export const account = (orgId: string) => ledgerFor(env, orgId).getAccount(orgId);
export const entries = (orgId: string) => ledgerFor(env, orgId).entries(orgId);

export async function processedCount(eventId: string): Promise<number> {
  const rows = await createDb(env.DB).select().from(schema.processedStripeEvents).where(eq(schema.processedStripeEvents.id, eventId));
  return rows.length;
}

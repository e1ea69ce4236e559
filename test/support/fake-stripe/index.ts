/**
 * The ONE fake Stripe API used by every test that needs Stripe: a plain Request → Response function,
 * served inside workerd tests through miniflare's outboundService (vitest.config.ts) and over node:http
 * for the browser test (server.ts). Written from Stripe's API reference:
 *
 * - form-encoded requests with bracket nesting; `Authorization: Bearer sk_test_…` (anything else 401);
 * - `Idempotency-Key`: a POST replays the first response (with `Idempotent-Replayed: true`), and the same
 *   key with different parameters is refused with an `idempotency_error`;
 * - objects with `id`, `object`, `created`; list objects `{ object: "list", data, has_more, url }`;
 *   errors `{ error: { type, message, code?, param? } }` (404 `resource_missing` for unknown ids);
 * - API shapes of the SDK's pinned version: subscription periods on the subscription items, invoice →
 *   subscription through `parent.subscription_details`, items carrying expanded prices.
 *
 * Every request is checked against Stripe's published OpenAPI spec (openapi.ts): a parameter the spec does
 * not define for the endpoint, or of another type, is refused with 400 as Stripe refuses it; every object
 * served and every event generated is checked too, and one that is not as the spec says is answered with a
 * 500 naming the fields. Each such violation is also kept (`violations()`, `GET /_fake/violations`).
 *
 * Stripe's side effects that happen outside API calls (a customer paying on the Checkout page, a renewal,
 * a failed renewal payment, a cancellation) are simulated through `/_fake/*` control endpoints, and the
 * events Stripe would send are kept in order and returned so the test can sign and deliver them.
 */
import { parseStripeForm, type FormValue } from "./form.js";
import { checkEvent, checkRequest, checkResponse, compileAll, operationFor } from "./openapi.js";

const FAKE_API_VERSION = "2026-10-28.endive";
const DAY = 86_400;
const PERIOD = 30 * DAY;

export interface FakePrice {
  id: string;
  unit_amount: number;
  currency?: string;
  /** Recurring monthly when true (subscription tiers); one-time otherwise (credit packs). */
  recurring: boolean;
}

type Obj = Record<string, any>;
type Json = Record<string, unknown>;

export interface FakeStripe {
  handle(req: Request): Promise<Response>;
  /** Every event generated so far, in the order Stripe would have created them. */
  events(): Obj[];
  /** Seconds since the epoch on the fake's clock (advanced by renewals). */
  now(): number;
  /** Every departure from Stripe's spec seen so far: requests refused, objects and events the fake got wrong. */
  violations(): string[];
}

/** The fake produced an object or event that is not as Stripe's spec says: a defect in the fake. */
class SpecViolation extends Error {}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const missing = (what: string, id: string, param = "id") =>
  new StripeHttpError(404, "invalid_request_error", `No such ${what}: '${id}'`, "resource_missing", param);
const invalid = (message: string, param?: string) => new StripeHttpError(400, "invalid_request_error", message, "parameter_invalid", param);

export function createFakeStripe(opts: { prices: FakePrice[]; startTime?: number }): FakeStripe {
  compileAll();
  let clock = opts.startTime ?? Math.floor(Date.now() / 1000);
  const prices = new Map(
    opts.prices.map((p) => [
      p.id,
      {
        id: p.id,
        object: "price",
        active: true,
        billing_scheme: "per_unit",
        currency: p.currency ?? "usd",
        unit_amount: p.unit_amount,
        type: p.recurring ? "recurring" : "one_time",
        recurring: p.recurring ? { interval: "month", interval_count: 1, usage_type: "licensed" } : null,
        livemode: false,
        created: clock,
        metadata: {},
        product: `prod_${p.id.slice(6)}`,
      },
    ]),
  );
  const store = {
    customers: new Map<string, Obj>(),
    sessions: new Map<string, Obj>(),
    portal: new Map<string, Obj>(),
    subscriptions: new Map<string, Obj>(),
    schedules: new Map<string, Obj>(),
    invoices: new Map<string, Obj>(),
    intents: new Map<string, Obj>(),
    charges: new Map<string, Obj>(),
  };
  const events: Obj[] = [];
  const violations: string[] = [];
  /**
   * Organizations whose API calls fail as if Stripe were unreachable (503, no retry): a call that names
   * the organization id or one of its customers. Per organization, so tests running alongside are unaffected.
   */
  const outages = new Set<string>();
  /** Customers whose payment method declines every charge from now on (`/_fake/customers/:id/card`). */
  const declining = new Set<string>();
  const idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  let counter = 0;
  let apiVersion = FAKE_API_VERSION;

  const newId = (prefix: string) => `${prefix}_fake${(++counter).toString(36).padStart(6, "0")}${Math.random().toString(36).slice(2, 8)}`;

  function emit(type: string, object: Obj, previous?: Obj): Obj {
    const event = {
      id: newId("evt"),
      object: "event",
      api_version: apiVersion,
      created: clock,
      data: { object: structuredClone(object), ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
    const problems = checkEvent(event);
    if (problems.length) {
      violations.push(`event ${type}: ${problems.join("; ")}`);
      throw new SpecViolation(`fake Stripe generated a ${type} event that is not as Stripe's OpenAPI spec says: ${problems.join("; ")}`);
    }
    events.push(event);
    return event;
  }

  const price = (id: unknown): Obj => {
    const p = typeof id === "string" ? prices.get(id) : undefined;
    if (!p) throw missing("price", String(id), "price");
    return p;
  };
  const get = (map: Map<string, Obj>, what: string, id: string) => {
    const o = map.get(id);
    if (!o) throw missing(what, id);
    return o;
  };
  const metadataOf = (v: FormValue | undefined): Record<string, string> => {
    if (v === undefined || v === "") return {};
    if (typeof v !== "object" || Array.isArray(v)) throw invalid("metadata must be a hash", "metadata");
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
  };
  const list = (url: string, data: Obj[], limit = 10) => ({ object: "list", data: data.slice(0, limit), has_more: data.length > limit, url });

  // ------------------------------------------------------------------ Stripe objects

  function subscriptionItem(subId: string, priceId: string, start: number, itemId = newId("si")): Obj {
    return {
      id: itemId,
      object: "subscription_item",
      created: clock,
      current_period_start: start,
      current_period_end: start + PERIOD,
      current_trial: null,
      discounts: [],
      metadata: {},
      plan: planOf(price(priceId)),
      price: structuredClone(price(priceId)),
      quantity: 1,
      subscription: subId,
    };
  }

  function phase(start: number, end: number | null, items: Obj[], metadata: Record<string, string>, currency: string): Obj {
    return { add_invoice_items: [], currency, end_date: end, items: items.map((it) => ({ ...it, discounts: [], metadata: {}, tax_rates: [] })), metadata, proration_behavior: "create_prorations", start_date: start };
  }

  /** The legacy plan object Stripe still puts on subscription items, mirroring a recurring price. */
  function planOf(p: Obj): Obj {
    return { id: p.id, object: "plan", active: p.active, amount: p.unit_amount, billing_scheme: "per_unit", created: p.created, currency: p.currency, interval: "month", interval_count: 1, livemode: false, metadata: {}, product: p.product, usage_type: "licensed" };
  }

  function invoiceFor(sub: Obj, reason: string, paid: boolean, amount: number): Obj {
    const item = sub.items.data[0];
    const invoice = {
      id: newId("in"),
      object: "invoice",
      amount_due: amount,
      amount_paid: paid ? amount : 0,
      amount_overpaid: 0,
      amount_remaining: paid ? 0 : amount,
      amount_shipping: 0,
      attempt_count: 1,
      attempted: true,
      automatic_tax: { enabled: false, status: null },
      automatically_finalizes_at: null,
      billing_reason: reason,
      collection_method: "charge_automatically",
      created: clock,
      currency: item.price.currency,
      customer: sub.customer,
      customer_account: null,
      default_tax_rates: [],
      description: null,
      issuer: { type: "self" },
      lines: list(`/v1/invoices/lines`, [
        {
          id: newId("il"),
          object: "line_item",
          amount,
          currency: item.price.currency,
          description: null,
          discountable: true,
          invoice: null,
          livemode: false,
          metadata: {},
          parent: { type: "subscription_item_details", invoice_item_details: null, subscription_item_details: { subscription: sub.id, subscription_item: item.id, proration: reason === "subscription_update", proration_details: null, invoice_item: null } },
          period: { start: item.current_period_start, end: item.current_period_end },
          pretax_credit_amounts: [],
          pricing: { type: "price_details", price_details: { price: item.price.id, product: item.price.product }, unit_amount_decimal: String(item.price.unit_amount) },
          quantity_decimal: "1",
          subtotal: amount,
          taxes: [],
        },
      ]),
      livemode: false,
      metadata: {},
      parent: { type: "subscription_details", quote_details: null, subscription_details: { metadata: sub.metadata, subscription: sub.id } },
      payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
      period_start: item.current_period_start,
      period_end: item.current_period_end,
      post_payment_credit_notes_amount: 0,
      pre_payment_credit_notes_amount: 0,
      rendering: null,
      starting_balance: 0,
      status: paid ? "paid" : "open",
      status_transitions: { finalized_at: clock, marked_uncollectible_at: null, paid_at: paid ? clock : null, voided_at: null },
      subtotal: amount,
      total: amount,
      total_pretax_credit_amounts: [],
      total_taxes: [],
    };
    store.invoices.set(invoice.id, invoice);
    return invoice;
  }

  /** A paid invoice's events, as Stripe sends both: `invoice.payment_succeeded` and `invoice.paid`. */
  function emitInvoicePaid(invoice: Obj): void {
    emit("invoice.payment_succeeded", invoice);
    emit("invoice.paid", invoice);
  }

  function paymentIntent(customer: string, amount: number, currency: string, metadata: Record<string, string>, ok: boolean, description: string | null = null): Obj {
    const pi = {
      id: newId("pi"),
      object: "payment_intent",
      amount,
      allowed_payment_method_types: null,
      amount_received: ok ? amount : 0,
      capture_method: "automatic",
      confirmation_method: "automatic",
      created: clock,
      currency,
      customer,
      customer_account: null,
      description,
      excluded_payment_method_types: null,
      last_payment_error: ok ? null : { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." },
      livemode: false,
      managed_payments: null,
      metadata,
      payment_method_configuration_details: null,
      payment_method_types: ["card"],
      payment_record: null,
      source: null,
      status: ok ? "succeeded" : "requires_payment_method",
    };
    store.intents.set(pi.id, pi);
    if (ok) chargeFor(pi);
    return pi;
  }

  /** The charge a succeeded payment intent made (its `latest_charge`); refunds and disputes act on it. */
  function chargeFor(pi: Obj): Obj {
    const charge = {
      id: newId("ch"),
      object: "charge",
      amount: pi.amount,
      amount_captured: pi.amount,
      amount_refunded: 0,
      billing_details: { address: null, email: null, name: null, phone: null },
      captured: true,
      created: clock,
      currency: pi.currency,
      customer: pi.customer,
      description: pi.description,
      disputed: false,
      livemode: false,
      // Stripe does not copy the payment intent's metadata here: the pack is found through payment_intent.
      metadata: {},
      paid: true,
      payment_intent: pi.id,
      refunded: false,
      source: null,
      status: "succeeded",
    };
    store.charges.set(charge.id, charge);
    pi.latest_charge = charge.id;
    return charge;
  }

  /** A refund of (part of) a charge, made in the Dashboard: `charge.refunded` with the cumulative amount refunded. */
  function refundCharge(chargeId: string, amount: number | undefined): Obj[] {
    const charge = get(store.charges, "charge", chargeId);
    const left = charge.amount - charge.amount_refunded;
    const refund = amount ?? left;
    if (!(refund > 0) || refund > left) throw invalid(`Refund amount (${refund}) is greater than unrefunded amount on charge (${left})`, "amount");
    const before = events.length;
    charge.amount_refunded += refund;
    charge.refunded = charge.amount_refunded === charge.amount;
    emit("charge.refunded", charge);
    return events.slice(before);
  }

  /** The cardholder disputes a charge: `charge.dispute.created`. */
  function disputeCharge(chargeId: string, amount: number | undefined): Obj[] {
    const charge = get(store.charges, "charge", chargeId);
    if (charge.disputed) throw invalid(`Charge ${chargeId} is already disputed`);
    const before = events.length;
    charge.disputed = true;
    const dispute = {
      id: newId("dp"),
      object: "dispute",
      amount: amount ?? charge.amount - charge.amount_refunded,
      balance_transactions: [],
      charge: charge.id,
      created: clock,
      currency: charge.currency,
      evidence: { customer_email_address: null, product_description: null, uncategorized_text: null },
      evidence_details: { due_by: clock + 7 * DAY, has_evidence: false, past_due: false, submission_count: 0 },
      is_charge_refundable: false,
      livemode: false,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason: "fraudulent",
      status: "needs_response",
    };
    emit("charge.dispute.created", dispute);
    return events.slice(before);
  }

  /** The customer pays on the hosted Checkout page. */
  function completeCheckout(sessionId: string, outcome: "paid" | "failed" | "pending"): Obj[] {
    const ok = outcome !== "failed";
    const session = get(store.sessions, "checkout session", sessionId);
    if (session.status !== "open") throw invalid(`Checkout session ${sessionId} is ${session.status}`);
    const before = events.length;
    const line = session.line_items[0];
    const p = price(line.price);
    if (session.mode === "subscription") {
      if (!ok) return [];
      const subId = newId("sub");
      const sub: Obj = {
        id: subId,
        object: "subscription",
        automatic_tax: { enabled: false, liability: null },
        billing_cycle_anchor: clock,
        billing_cycle_anchor_config: null,
        billing_mode: { type: "classic" },
        billing_schedules: [],
        cancel_at_period_end: false,
        canceled_at: null,
        collection_method: "charge_automatically",
        created: clock,
        currency: p.currency,
        customer: session.customer,
        customer_account: null,
        description: null,
        discounts: [],
        ended_at: null,
        invoice_settings: { account_tax_ids: null, issuer: { type: "self" } },
        items: list(`/v1/subscription_items?subscription=${subId}`, [subscriptionItem(subId, p.id, clock)]),
        latest_invoice: null,
        livemode: false,
        managed_payments: null,
        metadata: session.subscription_data?.metadata ?? {},
        schedule: null,
        start_date: clock,
        status: "active",
        trial_end: null,
        trial_start: null,
      };
      store.subscriptions.set(subId, sub);
      const invoice = invoiceFor(sub, "subscription_create", true, p.unit_amount);
      sub.latest_invoice = invoice.id;
      // Subscription payments carry no credit-pack metadata: the service must not credit them.
      const pi = paymentIntent(session.customer, p.unit_amount, p.currency, {}, true, "Subscription creation");
      Object.assign(session, { status: "complete", payment_status: "paid", subscription: subId, amount_total: p.unit_amount });
      emit("customer.subscription.created", sub);
      emit("payment_intent.succeeded", pi);
      emitInvoicePaid(invoice);
      emit("checkout.session.completed", publicSession(session));
    } else {
      const pi = paymentIntent(session.customer, p.unit_amount, p.currency, session.payment_intent_data?.metadata ?? {}, ok, session.payment_intent_data?.description ?? null);
      if (!ok) {
        emit("payment_intent.payment_failed", pi);
        return events.slice(before);
      }
      if (outcome === "pending") {
        // An asynchronous method (a bank debit): Checkout completes unpaid; the result comes days later.
        Object.assign(pi, { status: "processing", amount_received: 0 });
        Object.assign(session, { status: "complete", payment_status: "unpaid", payment_intent: pi.id, amount_total: p.unit_amount });
        emit("payment_intent.processing", pi);
        emit("checkout.session.completed", publicSession(session));
        return events.slice(before);
      }
      Object.assign(session, { status: "complete", payment_status: "paid", payment_intent: pi.id, amount_total: p.unit_amount });
      emit("payment_intent.succeeded", pi);
      emit("checkout.session.completed", publicSession(session));
    }
    return events.slice(before);
  }

  /** The asynchronous payment of a completed Checkout session succeeds or fails. */
  function settleAsyncPayment(sessionId: string, ok: boolean): Obj[] {
    const session = get(store.sessions, "checkout session", sessionId);
    const pi = session.payment_intent ? store.intents.get(session.payment_intent) : undefined;
    if (session.status !== "complete" || session.payment_status !== "unpaid" || pi?.status !== "processing") {
      throw invalid(`Checkout session ${sessionId} has no payment processing`);
    }
    const before = events.length;
    if (ok) {
      Object.assign(pi, { status: "succeeded", amount_received: pi.amount });
      chargeFor(pi);
      session.payment_status = "paid";
      emit("payment_intent.succeeded", pi);
      emit("checkout.session.async_payment_succeeded", publicSession(session));
    } else {
      Object.assign(pi, {
        status: "requires_payment_method",
        last_payment_error: { type: "invalid_request_error", code: "payment_method_not_available", message: "The bank debit failed: insufficient funds." },
      });
      emit("payment_intent.payment_failed", pi);
      emit("checkout.session.async_payment_failed", publicSession(session));
    }
    return events.slice(before);
  }

  /** The period ends: Stripe applies a scheduled phase, renews (or ends) and charges the next invoice. */
  function renew(subId: string, ok: boolean): Obj[] {
    const sub = get(store.subscriptions, "subscription", subId);
    if (sub.status === "canceled") throw invalid(`Subscription ${subId} is canceled`);
    const before = events.length;
    const item = sub.items.data[0];
    clock = Math.max(clock, item.current_period_end);
    if (sub.cancel_at_period_end) {
      Object.assign(sub, { status: "canceled", canceled_at: clock, ended_at: clock });
      emit("customer.subscription.deleted", sub);
      return events.slice(before);
    }
    let priceId = item.price.id;
    if (sub.schedule) {
      const schedule = store.schedules.get(sub.schedule)!;
      const next = schedule.phases.find((ph: Obj) => ph.start_date <= clock && (ph.end_date ?? Infinity) > clock);
      if (next) priceId = next.items[0].price;
      if (schedule.end_behavior === "release" && schedule.phases.at(-1) === next) {
        Object.assign(schedule, { status: "released", released_at: clock, released_subscription: sub.id, subscription: null });
        sub.schedule = null;
        emit("subscription_schedule.released", schedule);
      }
    }
    const previous = { items: structuredClone(sub.items) };
    sub.items.data[0] = subscriptionItem(sub.id, priceId, item.current_period_end, item.id);
    const invoice = invoiceFor(sub, "subscription_cycle", ok, price(priceId).unit_amount);
    sub.latest_invoice = invoice.id;
    if (!ok) sub.status = "past_due";
    else if (sub.status === "past_due") sub.status = "active";
    emit("customer.subscription.updated", sub, previous);
    if (ok) emitInvoicePaid(invoice);
    else emit("invoice.payment_failed", invoice);
    return events.slice(before);
  }

  /**
   * Stripe retries an open invoice (Smart Retries, or the customer paying it in the portal): paid, the
   * subscription it is the latest invoice of returns from past_due to active; failed, one more attempt.
   */
  function attemptInvoice(invoiceId: string, ok: boolean): Obj[] {
    const invoice = get(store.invoices, "invoice", invoiceId);
    if (invoice.status !== "open") throw invalid(`Invoice ${invoiceId} is ${invoice.status}`);
    const before = events.length;
    invoice.attempt_count += 1;
    if (!ok) {
      emit("invoice.payment_failed", invoice);
      return events.slice(before);
    }
    Object.assign(invoice, { status: "paid", amount_paid: invoice.amount_due, amount_remaining: 0, status_transitions: { ...invoice.status_transitions, paid_at: clock } });
    const sub = store.subscriptions.get(invoice.parent?.subscription_details?.subscription);
    if (sub && sub.latest_invoice === invoice.id && sub.status === "past_due") {
      sub.status = "active";
      emit("customer.subscription.updated", sub, { status: "past_due" });
    }
    emitInvoicePaid(invoice);
    return events.slice(before);
  }

  /**
   * Stripe's retries for the subscription's open invoice are exhausted: the subscription ends as the
   * account's revenue-recovery settings say — canceled, or unpaid (kept, no further attempts).
   */
  function retriesExhausted(subId: string, then: "canceled" | "unpaid"): Obj[] {
    const sub = get(store.subscriptions, "subscription", subId);
    if (sub.status !== "past_due") throw invalid(`Subscription ${subId} is ${sub.status}, not past_due`);
    const before = events.length;
    if (then === "unpaid") {
      sub.status = "unpaid";
      emit("customer.subscription.updated", sub, { status: "past_due" });
    } else {
      Object.assign(sub, { status: "canceled", canceled_at: clock, ended_at: clock });
      emit("customer.subscription.deleted", sub);
    }
    return events.slice(before);
  }

  function cancelNow(subId: string): Obj[] {
    const sub = get(store.subscriptions, "subscription", subId);
    const before = events.length;
    Object.assign(sub, { status: "canceled", canceled_at: clock, ended_at: clock });
    emit("customer.subscription.deleted", sub);
    return events.slice(before);
  }

  // ------------------------------------------------------------------ API routes

  async function api(method: string, path: string, body: Record<string, FormValue>, url: URL): Promise<[number, unknown]> {
    const seg = path.split("/").filter(Boolean); // ["v1", ...]
    const [, resource, id, action] = seg;
    const origin = url.origin;

    if (resource === "customers") {
      if (method === "POST" && !id) {
        const c = {
          id: newId("cus"),
          object: "customer",
          created: clock,
          description: (body.description as string) ?? null,
          email: (body.email as string) ?? null,
          name: (body.name as string) ?? null,
          livemode: false,
          metadata: metadataOf(body.metadata),
        };
        store.customers.set(c.id, c);
        return [200, c];
      }
      if (method === "GET" && id) return [200, get(store.customers, "customer", id)];
      if (method === "GET") return [200, list("/v1/customers", [...store.customers.values()].reverse(), Number(url.searchParams.get("limit") ?? 10))];
    }

    if (resource === "checkout" && id === "sessions") {
      const sid = action;
      if (method === "POST" && !sid) {
        const mode = body.mode;
        if (mode !== "subscription" && mode !== "payment") throw invalid("mode must be one of payment, setup, subscription", "mode");
        const customer = body.customer as string;
        if (customer) get(store.customers, "customer", customer);
        const items = (body.line_items as Obj[] | undefined) ?? [];
        if (!items.length) throw invalid("line_items is required", "line_items");
        for (const li of items) {
          const p = price(li.price);
          if ((mode === "subscription") !== (p.type === "recurring")) {
            throw invalid(
              mode === "subscription"
                ? "You must provide at least one recurring price in `subscription` mode when using prices."
                : "You specified `payment` mode but passed a recurring price.",
              "line_items",
            );
          }
        }
        if (!body.success_url) throw invalid("success_url is required", "success_url");
        if (mode === "payment" && body.subscription_data) throw invalid("subscription_data can only be used in subscription mode", "subscription_data");
        if (mode === "subscription" && body.payment_intent_data) throw invalid("payment_intent_data can only be used in payment mode", "payment_intent_data");
        const sessionId = newId("cs_test");
        const s: Obj = {
          id: sessionId,
          object: "checkout.session",
          adaptive_pricing: null,
          allowed_payment_method_types: null,
          automatic_tax: { enabled: false, liability: null, status: null },
          client_secret: null,
          collected_information: null,
          custom_fields: [],
          custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
          customer_account: null,
          discounts: [],
          integration_identifier: null,
          managed_payments: null,
          origin_context: null,
          payment_method_configuration_details: null,
          payment_method_types: ["card"],
          permissions: null,
          saved_payment_method_options: null,
          shipping_options: [],
          ui_mode: "hosted",
          wallet_options: null,
          amount_total: items.reduce((sum, li) => sum + price(li.price).unit_amount * Number(li.quantity ?? 1), 0),
          cancel_url: body.cancel_url ?? null,
          client_reference_id: body.client_reference_id ?? null,
          created: clock,
          currency: price(items[0]!.price).currency,
          customer: customer ?? null,
          expires_at: clock + DAY,
          line_items: items.map((li) => ({ price: li.price, quantity: Number(li.quantity ?? 1) })),
          livemode: false,
          metadata: metadataOf(body.metadata),
          mode,
          payment_intent: null,
          payment_intent_data: body.payment_intent_data
            ? { metadata: metadataOf((body.payment_intent_data as Obj).metadata), description: (body.payment_intent_data as Obj).description ?? null }
            : undefined,
          payment_status: "unpaid",
          status: "open",
          subscription: null,
          subscription_data: body.subscription_data ? { metadata: metadataOf((body.subscription_data as Obj).metadata) } : undefined,
          success_url: body.success_url,
          url: `${origin}/c/pay/${sessionId}`,
        };
        store.sessions.set(s.id, s);
        return [200, publicSession(s)];
      }
      if (method === "GET" && sid) return [200, publicSession(get(store.sessions, "checkout session", sid))];
    }

    if (resource === "billing_portal" && id === "sessions" && method === "POST") {
      const customer = body.customer as string;
      if (!customer) throw invalid("customer is required", "customer");
      get(store.customers, "customer", customer);
      const ps = { id: newId("bps"), object: "billing_portal.session", configuration: "bpc_fake_default", created: clock, customer, customer_account: null, livemode: false, return_url: body.return_url ?? null, url: "" };
      ps.url = `${origin}/p/session/${ps.id}`;
      store.portal.set(ps.id, ps);
      return [200, ps];
    }

    if (resource === "subscriptions" && !id && method === "GET") {
      const customer = url.searchParams.get("customer");
      const status = url.searchParams.get("status") ?? "active";
      const subs = [...store.subscriptions.values()]
        .filter((s) => !customer || s.customer === customer)
        .filter((s) => (status === "all" ? true : s.status === status) && (status === "canceled" || status === "all" || s.status !== "canceled"))
        .reverse();
      return [200, list("/v1/subscriptions", subs, Number(url.searchParams.get("limit") ?? 10))];
    }
    if (resource === "subscriptions" && id) {
      const sub = get(store.subscriptions, "subscription", id);
      if (method === "GET") return [200, sub];
      if (method === "POST" && !action) {
        if (sub.status === "canceled") throw invalid("A canceled subscription can only update its cancellation_details and metadata.");
        const previous: Obj = {};
        const items = body.items as Obj[] | undefined;
        if (items?.[0]?.price) {
          const item = sub.items.data[0];
          if (items[0].id && items[0].id !== item.id) throw missing("subscription item", items[0].id, "items[0][id]");
          const oldPrice = item.price;
          const newPrice = price(items[0].price);
          previous.items = structuredClone(sub.items);
          item.price = structuredClone(newPrice);
          if (body.proration_behavior === "always_invoice" && newPrice.unit_amount > oldPrice.unit_amount) {
            const left = (item.current_period_end - clock) / (item.current_period_end - item.current_period_start);
            // Invoiced and charged at once; the default payment_behavior (allow_incomplete) leaves the
            // subscription past_due when that payment fails.
            const ok = !declining.has(sub.customer);
            const invoice = invoiceFor(sub, "subscription_update", ok, Math.round((newPrice.unit_amount - oldPrice.unit_amount) * left));
            sub.latest_invoice = invoice.id;
            if (!ok) {
              previous.status = sub.status;
              sub.status = "past_due";
            }
            emit("customer.subscription.updated", sub, previous);
            if (ok) emitInvoicePaid(invoice);
            else emit("invoice.payment_failed", invoice);
            return [200, sub];
          }
        }
        if (body.cancel_at_period_end !== undefined) {
          previous.cancel_at_period_end = sub.cancel_at_period_end;
          sub.cancel_at_period_end = body.cancel_at_period_end === "true";
        }
        if (body.metadata !== undefined) sub.metadata = { ...sub.metadata, ...metadataOf(body.metadata) };
        emit("customer.subscription.updated", sub, previous);
        return [200, sub];
      }
    }

    if (resource === "subscription_schedules") {
      if (method === "POST" && !id) {
        const subId = body.from_subscription as string;
        if (!subId) throw invalid("from_subscription is required in this fake", "from_subscription");
        const sub = get(store.subscriptions, "subscription", subId);
        if (sub.schedule) throw invalid(`Subscription ${subId} already has a schedule`, "from_subscription");
        const item = sub.items.data[0];
        const sched = {
          id: newId("sub_sched"),
          object: "subscription_schedule",
          billing_mode: { type: "classic" },
          created: clock,
          customer: sub.customer,
          customer_account: null,
          default_settings: { application_fee_percent: null, automatic_tax: { enabled: false, liability: null }, billing_cycle_anchor: "automatic", billing_thresholds: null, collection_method: "charge_automatically", default_payment_method: null, invoice_settings: { account_tax_ids: null, days_until_due: null, issuer: { type: "self" } }, on_behalf_of: null, transfer_data: null },
          end_behavior: "release",
          livemode: false,
          metadata: {},
          pause_schedules: [],
          phases: [phase(item.current_period_start, item.current_period_end, [{ price: item.price.id, quantity: 1 }], {}, item.price.currency)],
          released_at: null,
          released_subscription: null,
          status: "active",
          subscription: subId,
        };
        store.schedules.set(sched.id, sched);
        sub.schedule = sched.id;
        emit("subscription_schedule.created", sched);
        return [200, sched];
      }
      if (id) {
        const sched = get(store.schedules, "subscription schedule", id);
        if (method === "GET" && !action) return [200, sched];
        if (method === "POST" && action === "release") {
          if (sched.status !== "active") throw invalid(`You cannot release a subscription schedule that is currently in the \`${sched.status}\` status.`);
          const sub = store.subscriptions.get(sched.subscription);
          Object.assign(sched, { status: "released", released_at: clock, released_subscription: sched.subscription, subscription: null });
          if (sub) sub.schedule = null;
          emit("subscription_schedule.released", sched);
          return [200, sched];
        }
        if (method === "POST" && !action) {
          if (sched.status !== "active") throw invalid(`You cannot update a subscription schedule that is currently in the \`${sched.status}\` status.`);
          if (body.end_behavior) sched.end_behavior = body.end_behavior;
          const phases = body.phases as Obj[] | undefined;
          if (phases) {
            let start = Number(phases[0]?.start_date ?? sched.phases[0].start_date);
            sched.phases = phases.map((ph) => {
              for (const it of ph.items as Obj[]) price(it.price);
              const end = ph.end_date ? Number(ph.end_date) : ph.duration ? start + PERIOD * Number((ph.duration as Obj).interval_count ?? 1) : null;
              const items = (ph.items as Obj[]).map((it) => ({ price: it.price, quantity: Number(it.quantity ?? 1) }));
              const out = phase(start, end, items, metadataOf(ph.metadata), price(items[0]!.price).currency);
              start = end ?? start;
              return out;
            });
          }
          emit("subscription_schedule.updated", sched);
          return [200, sched];
        }
      }
    }

    if (resource === "payment_intents" && id && method === "GET") return [200, get(store.intents, "payment_intent", id)];
    if (resource === "invoices" && id && method === "GET") return [200, get(store.invoices, "invoice", id)];
    if (resource === "prices" && id && method === "GET") return [200, price(id)];

    throw new StripeHttpError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);
  }

  /** Session as the API returns it (the fake keeps a few internal fields Stripe does not expose). */
  function publicSession(s: Obj): Obj {
    const { line_items: _l, payment_intent_data: _p, subscription_data: _s, ...rest } = s;
    return rest;
  }

  // ------------------------------------------------------------------ control endpoints and hosted pages

  async function control(method: string, path: string, url: URL, req: Request): Promise<Response> {
    const seg = path.split("/").filter(Boolean); // ["_fake", ...]
    const body = method === "POST" ? ((await req.json().catch(() => ({}))) as Json) : {};
    if (method === "GET" && seg[1] === "events") {
      const customer = url.searchParams.get("customer");
      const customerOf = (o: Obj) => o.customer ?? (o.object === "dispute" ? store.charges.get(o.charge)?.customer : undefined);
      const selected = customer ? events.filter((e) => customerOf(e.data.object) === customer) : events;
      return jsonResponse(200, { events: selected });
    }
    if (method === "GET" && seg[1] === "violations") return jsonResponse(200, { violations });
    if (method === "POST" && seg[1] === "outage") {
      const org = String(body.organization_id ?? "");
      if (body.down === false) outages.delete(org);
      else outages.add(org);
      return jsonResponse(200, { events: [] });
    }
    if (method === "POST" && seg[1] === "check_event") return jsonResponse(200, { problems: checkEvent(body) });
    if (method === "GET" && seg[1] === "customers" && seg[2]) return jsonResponse(200, get(store.customers, "customer", seg[2]));
    if (method === "POST" && seg[1] === "checkout_sessions" && seg[3] === "complete") {
      return jsonResponse(200, { events: completeCheckout(seg[2]!, body.outcome === "failed" ? "failed" : body.outcome === "pending" ? "pending" : "paid") });
    }
    if (method === "POST" && seg[1] === "checkout_sessions" && seg[3] === "async_payment") {
      return jsonResponse(200, { events: settleAsyncPayment(seg[2]!, body.outcome !== "failed") });
    }
    if (method === "POST" && seg[1] === "subscriptions" && seg[3] === "renew") return jsonResponse(200, { events: renew(seg[2]!, body.outcome !== "failed") });
    if (method === "POST" && seg[1] === "subscriptions" && seg[3] === "cancel") return jsonResponse(200, { events: cancelNow(seg[2]!) });
    if (method === "POST" && seg[1] === "subscriptions" && seg[3] === "retries_exhausted") {
      return jsonResponse(200, { events: retriesExhausted(seg[2]!, body.then === "unpaid" ? "unpaid" : "canceled") });
    }
    if (method === "POST" && seg[1] === "charges" && seg[3] === "refund") return jsonResponse(200, { events: refundCharge(seg[2]!, body.amount === undefined ? undefined : Number(body.amount)) });
    if (method === "POST" && seg[1] === "charges" && seg[3] === "dispute") return jsonResponse(200, { events: disputeCharge(seg[2]!, body.amount === undefined ? undefined : Number(body.amount)) });
    if (method === "POST" && seg[1] === "invoices" && seg[3] === "attempt") return jsonResponse(200, { events: attemptInvoice(seg[2]!, body.outcome !== "failed") });
    if (method === "POST" && seg[1] === "customers" && seg[3] === "card") {
      get(store.customers, "customer", seg[2]!);
      if (body.declines) declining.add(seg[2]!);
      else declining.delete(seg[2]!);
      return jsonResponse(200, { declines: declining.has(seg[2]!) });
    }
    if (method === "POST" && seg[1] === "clock") {
      clock += Number(body.advance_seconds ?? 0);
      return jsonResponse(200, { now: clock });
    }
    throw new StripeHttpError(404, "invalid_request_error", `Unknown control endpoint ${method} ${path}`);
  }

  function hosted(method: string, path: string): Response {
    const [, kind, id] = path.split("/").filter(Boolean);
    if (path.startsWith("/c/pay/")) {
      const s = get(store.sessions, "checkout session", kind === "pay" ? id! : "");
      if (method === "POST") {
        completeCheckout(s.id, "paid");
        return new Response(null, { status: 303, headers: { Location: String(s.success_url).replace("{CHECKOUT_SESSION_ID}", s.id) } });
      }
      const p = price(s.line_items[0].price);
      return htmlPage(
        "Fake Stripe Checkout",
        `<h1>Fake Stripe Checkout</h1><p>Session <code>${s.id}</code> (${s.mode}) for price <code>${p.id}</code>: ${(p.unit_amount / 100).toFixed(2)} ${p.currency.toUpperCase()}${p.recurring ? " / month" : ""}</p>
         <form method="post"><button type="submit">Pay</button></form><p><a href="${escapeHtml(String(s.cancel_url ?? "#"))}">Cancel</a></p>`,
      );
    }
    const ps = get(store.portal, "billing portal session", id ?? "");
    return htmlPage("Fake Stripe customer portal", `<h1>Fake Stripe customer portal</h1><p>Customer <code>${ps.customer}</code></p><p><a href="${escapeHtml(String(ps.return_url ?? "#"))}">Return</a></p>`);
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const method = req.method.toUpperCase();
    const path = url.pathname;
    try {
      if (path.startsWith("/_fake/")) return await control(method, path, url, req);
      if (path.startsWith("/c/pay/") || path.startsWith("/p/session/")) return hosted(method, path);
      if (!path.startsWith("/v1/")) throw new StripeHttpError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);

      const auth = req.headers.get("Authorization") ?? "";
      if (!auth) throw new StripeHttpError(401, "invalid_request_error", "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
      const key = /^Bearer ((?:sk|rk)_test_\w+)$/.exec(auth)?.[1];
      if (!key) throw new StripeHttpError(401, "invalid_request_error", `Invalid API Key provided: ${auth.replace(/^Bearer\s+/, "").slice(0, 12)}****`);
      apiVersion = req.headers.get("Stripe-Version") ?? apiVersion;

      const raw = method === "GET" || method === "DELETE" ? "" : await req.text();
      if (raw && !(req.headers.get("Content-Type") ?? "").startsWith("application/x-www-form-urlencoded")) {
        throw invalid("Request bodies must be application/x-www-form-urlencoded");
      }
      const named = `${path} ${decodeURIComponent(url.search)} ${decodeURIComponent(raw)}`;
      const customersOf = (org: string) => [...store.customers.values()].filter((c) => (c.metadata as Record<string, string> | undefined)?.organization_id === org).map((c) => String(c.id));
      for (const org of outages) {
        if (named.includes(org) || customersOf(org).some((id) => named.includes(id))) {
          return new Response(JSON.stringify({ error: { type: "api_error", message: "Stripe is temporarily unavailable (fake outage)" } }), {
            status: 503,
            headers: { "Content-Type": "application/json", "Stripe-Should-Retry": "false" },
          });
        }
      }
      const idemKey = method === "POST" ? req.headers.get("Idempotency-Key") : null;
      const fingerprint = `${method} ${path} ${raw}`;
      if (idemKey) {
        const prior = idempotency.get(`${key}:${idemKey}`);
        if (prior) {
          if (prior.fingerprint !== fingerprint) {
            throw new StripeHttpError(
              400,
              "idempotency_error",
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
            );
          }
          return new Response(prior.body, { status: prior.status, headers: { "Content-Type": "application/json", "Idempotent-Replayed": "true", "Idempotency-Key": idemKey, "Request-Id": newId("req") } });
        }
      }
      const operation = operationFor(method, path);
      const form = parseStripeForm(raw);
      if (operation) {
        const problems = checkRequest(operation, parseStripeForm(url.search.slice(1)), form);
        if (problems.length) {
          violations.push(`request ${operation}: ${problems.join("; ")}`);
          const [param, what] = problems[0]!.split(": ");
          const unknown = what === "unknown parameter";
          throw new StripeHttpError(400, "invalid_request_error", unknown ? `Received unknown parameter: ${param}` : `Invalid ${param}: ${problems.join("; ")}`, unknown ? "parameter_unknown" : "parameter_invalid", param);
        }
      }
      const [status, result] = await api(method, path, form, url);
      if (operation && status === 200) {
        const problems = checkResponse(operation, result);
        if (problems.length) {
          violations.push(`response ${operation}: ${problems.join("; ")}`);
          throw new SpecViolation(`fake Stripe answered ${operation} with an object that is not as Stripe's OpenAPI spec says: ${problems.join("; ")}`);
        }
      }
      const text = JSON.stringify(result);
      if (idemKey) idempotency.set(`${key}:${idemKey}`, { fingerprint, status, body: text });
      return new Response(text, { status, headers: { "Content-Type": "application/json", "Request-Id": newId("req"), ...(idemKey ? { "Idempotency-Key": idemKey } : {}) } });
    } catch (err) {
      if (err instanceof StripeHttpError) {
        return jsonResponse(err.status, { error: { type: err.type, message: err.message, ...(err.code ? { code: err.code } : {}), ...(err.param ? { param: err.param } : {}) } });
      }
      if (err instanceof SpecViolation) return jsonResponse(500, { error: { type: "api_error", message: err.message } });
      return jsonResponse(500, { error: { type: "api_error", message: `fake Stripe failed: ${err instanceof Error ? err.stack : String(err)}` } });
    }
  }

  return { handle, events: () => events.slice(), now: () => clock, violations: () => violations.slice() };
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", "Request-Id": `req_fake${Date.now()}` } });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function htmlPage(title: string, body: string): Response {
  return new Response(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`, {
    headers: { "Content-Type": "text/html; charset=utf-8" },
  });
}

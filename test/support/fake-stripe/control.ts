/** Drives the fake Stripe's simulated side effects (a customer paying, renewals, cancellations). */
export type FakeEvent = { id: string; type: string; created: number; data: { object: Record<string, any> } } & Record<string, unknown>;

export function fakeStripeControl(base: string, fetchFn: typeof fetch = fetch) {
  const post = async (path: string, body: unknown = {}) => {
    const res = await fetchFn(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`fake Stripe ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { events: FakeEvent[] };
  };
  return {
    /** The customer pays (or fails to pay) on the hosted Checkout page; returns the events Stripe sends. */
    completeCheckout: async (sessionId: string, outcome: "paid" | "failed" | "pending" = "paid") => (await post(`/_fake/checkout_sessions/${sessionId}/complete`, { outcome })).events,
    /** A completed Checkout paid by an asynchronous method (outcome "pending" above): its payment succeeds or fails. */
    settleAsyncPayment: async (sessionId: string, outcome: "succeeded" | "failed") => (await post(`/_fake/checkout_sessions/${sessionId}/async_payment`, { outcome })).events,
    /** The billing period ends: renewal invoice paid or failed (or the subscription ends if set to cancel). */
    renew: async (subscriptionId: string, outcome: "paid" | "failed" = "paid") => (await post(`/_fake/subscriptions/${subscriptionId}/renew`, { outcome })).events,
    cancelNow: async (subscriptionId: string) => (await post(`/_fake/subscriptions/${subscriptionId}/cancel`)).events,
    /** Stripe cannot be reached for this organization's calls (503) until `down` is false again. */
    outage: async (organizationId: string, down = true) => void (await post("/_fake/outage", { organization_id: organizationId, down })),
    /** Stripe retries an open invoice (or the customer pays it): paid, or one more failed attempt. */
    attemptInvoice: async (invoiceId: string, outcome: "paid" | "failed" = "paid") => (await post(`/_fake/invoices/${invoiceId}/attempt`, { outcome })).events,
    /** Stripe's retries for a past_due subscription are exhausted: it is canceled, or kept as unpaid. */
    retriesExhausted: async (subscriptionId: string, then: "canceled" | "unpaid") => (await post(`/_fake/subscriptions/${subscriptionId}/retries_exhausted`, { then })).events,
    /** A refund of a charge (the rest of it when no amount is given): `charge.refunded`. */
    refundCharge: async (chargeId: string, amount?: number) => (await post(`/_fake/charges/${chargeId}/refund`, amount === undefined ? {} : { amount })).events,
    /** The cardholder disputes a charge (what is not refunded, when no amount is given): `charge.dispute.created`. */
    disputeCharge: async (chargeId: string, amount?: number) => (await post(`/_fake/charges/${chargeId}/dispute`, amount === undefined ? {} : { amount })).events,
    /** From now on the customer's payment method declines every charge (or, with false, pays again). */
    cardDeclines: async (customer: string, declines = true) => {
      const res = await fetchFn(`${base}/_fake/customers/${customer}/card`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ declines }) });
      if (!res.ok) throw new Error(`fake Stripe card: ${res.status} ${await res.text()}`);
    },
    /** All events for a customer, in creation order. */
    events: async (customer: string) => {
      const res = await fetchFn(`${base}/_fake/events?customer=${encodeURIComponent(customer)}`);
      return ((await res.json()) as { events: FakeEvent[] }).events;
    },
  };
}

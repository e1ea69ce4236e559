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
    completeCheckout: async (sessionId: string, outcome: "paid" | "failed" = "paid") => (await post(`/_fake/checkout_sessions/${sessionId}/complete`, { outcome })).events,
    /** The billing period ends: renewal invoice paid or failed (or the subscription ends if set to cancel). */
    renew: async (subscriptionId: string, outcome: "paid" | "failed" = "paid") => (await post(`/_fake/subscriptions/${subscriptionId}/renew`, { outcome })).events,
    cancelNow: async (subscriptionId: string) => (await post(`/_fake/subscriptions/${subscriptionId}/cancel`)).events,
    /** Stripe cannot be reached for this organization's calls (503) until `down` is false again. */
    outage: async (organizationId: string, down = true) => void (await post("/_fake/outage", { organization_id: organizationId, down })),
    /** All events for a customer, in creation order. */
    events: async (customer: string) => {
      const res = await fetchFn(`${base}/_fake/events?customer=${encodeURIComponent(customer)}`);
      return ((await res.json()) as { events: FakeEvent[] }).events;
    },
  };
}

/**
 * What a verified Stripe event must look like before it is applied. A signature proves who sent the
 * bytes, not that they are an event of a shape the handlers can read: `null`, `[]`, an event with no
 * id, or a handled type without its `data.object` fields is refused with 400 (never a 500 that
 * Stripe would retry for days). Only the fields the handlers read are required; anything else may
 * vary with Stripe's API version.
 *
 * The event must be rendered in the API version the service is written against (STRIPE_API_VERSION): a
 * webhook endpoint set to another version sends other shapes (before 2025-03-31 an invoice named its
 * subscription in `invoice.subscription`, which this version moved to `invoice.parent`), which the
 * handlers would misread quietly. Such an event is refused with 400, changing nothing, and an error log
 * line names both versions, so the endpoint can be set right; Stripe keeps retrying it meanwhile.
 */
import { z } from "zod";
import { ApiError } from "../../errors/api-error.js";
import { log } from "../../lib/log.js";
import { STRIPE_API_VERSION, type Stripe } from "./client.js";

const ref = z.union([z.string(), z.looseObject({ id: z.string() })]).nullable().optional();
const metadata = z.record(z.string(), z.string().nullable()).nullable().optional();

const Envelope = z.looseObject({
  id: z.string().min(1).max(255),
  type: z.string().min(1).max(255),
  api_version: z.string().nullable().optional(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

const CheckoutSession = z.looseObject({
  id: z.string(),
  mode: z.string(),
  customer: ref,
  subscription: ref,
  payment_intent: ref,
  metadata,
  payment_status: z.string().optional(),
  amount_total: z.number().nullable().optional(),
  currency: z.string().nullable().optional(),
});
const PaymentIntent = z.looseObject({ id: z.string(), customer: ref, metadata, amount_received: z.number(), currency: z.string() });
const Subscription = z.looseObject({ id: z.string(), customer: ref, metadata });
const Invoice = z.looseObject({ customer: ref, parent: z.looseObject({}).nullable().optional() });
const Schedule = z.looseObject({ id: z.string(), customer: ref, subscription: ref, released_subscription: z.string().nullable().optional() });
const Charge = z.looseObject({ id: z.string(), payment_intent: ref, amount_refunded: z.number() });
const Dispute = z.looseObject({ id: z.string(), charge: ref, payment_intent: ref, amount: z.number() });

const OBJECT_SHAPES: Record<string, z.ZodType> = {
  "checkout.session.completed": CheckoutSession,
  "checkout.session.async_payment_succeeded": CheckoutSession,
  "checkout.session.async_payment_failed": CheckoutSession,
  "payment_intent.succeeded": PaymentIntent,
  "payment_intent.payment_failed": PaymentIntent,
  "customer.subscription.created": Subscription,
  "customer.subscription.updated": Subscription,
  "customer.subscription.deleted": Subscription,
  "customer.subscription.paused": Subscription,
  "customer.subscription.resumed": Subscription,
  "invoice.payment_succeeded": Invoice,
  "invoice.paid": Invoice,
  "invoice.payment_failed": Invoice,
  "subscription_schedule.created": Schedule,
  "subscription_schedule.updated": Schedule,
  "subscription_schedule.released": Schedule,
  "subscription_schedule.canceled": Schedule,
  "charge.refunded": Charge,
  "charge.dispute.created": Dispute,
};

export function checkEventShape(event: unknown): Stripe.Event {
  const envelope = Envelope.safeParse(event);
  if (!envelope.success) throw shapeError("is not a Stripe event (id, type and data.object are required)", envelope.error);
  const { id, type, api_version: version = null } = envelope.data;
  if (version !== STRIPE_API_VERSION) {
    log("error", "stripe webhook event refused: rendered in another API version than the service reads; set the webhook endpoint's API version", {
      event_id: id,
      type,
      api_version: version,
      expected_api_version: STRIPE_API_VERSION,
    });
    throw new ApiError(
      "VALIDATION_ERROR",
      `The webhook event is rendered in Stripe API version ${version ?? "(none)"}; this service reads ${STRIPE_API_VERSION}: set the webhook endpoint's API version to ${STRIPE_API_VERSION}`,
      { api_version: version, expected_api_version: STRIPE_API_VERSION },
    );
  }
  const shape = OBJECT_SHAPES[envelope.data.type];
  if (shape) {
    const object = shape.safeParse(envelope.data.data.object);
    if (!object.success) throw shapeError(`is a ${envelope.data.type} without the fields it needs`, object.error);
  }
  return event as Stripe.Event;
}

function shapeError(what: string, error: z.ZodError): ApiError {
  return new ApiError("VALIDATION_ERROR", `The webhook body ${what}`, {
    fields: error.issues.slice(0, 10).map((i) => ({ field: i.path.join(".") || "(body)", message: i.message })),
  });
}

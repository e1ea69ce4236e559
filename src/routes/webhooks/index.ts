/**
 * POST /api/v1/webhooks/stripe (spec §6). Verified on the raw body (constructEventAsync with the
 * SubtleCrypto provider, Stripe's default 300 s tolerance, which the SDK only applies to the past:
 * a timestamp more than 300 s ahead is refused here); a missing or bad signature, a timestamp out of
 * tolerance either way, or a body that is not an event of a shape we read is a 400 and changes
 * nothing. 200 only after the effects are committed; a processing failure is a 5xx so Stripe retries.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../env.js";
import { ApiError } from "../../errors/api-error.js";
import { errorResponses, stripeSignatureSecurity } from "../schemas.js";
import { validationHook } from "../validation.js";
import { cryptoProvider, stripeClient } from "../../services/stripe/client.js";
import { checkEventShape } from "../../services/stripe/eventShape.js";
import { processStripeEvent } from "../../services/stripe/processEvent.js";
import { recordMetric } from "../../services/metrics/events.js";

/** Stripe's default; applied to the past by the SDK and to the future below. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

const Ack = z
  .object({
    received: z.literal(true),
    event_id: z.string(),
    outcome: z.enum(["applied", "unchanged", "ignored", "duplicate"]),
  })
  .openapi("StripeWebhookAck");

const stripeWebhook = createRoute({
  method: "post",
  path: "/stripe",
  operationId: "receiveStripeEvent",
  tags: ["Webhooks"],
  summary: "Stripe events (signature-verified; each event's effects happen exactly once)",
  description:
    "Handled: checkout.session.completed/async_payment_succeeded/async_payment_failed, customer.subscription.created/updated/deleted, " +
    "invoice.paid, invoice.payment_succeeded, invoice.payment_failed (the plan grant follows the invoice's payment), " +
    "payment_intent.succeeded/payment_failed (credit packs only; a failed pack payment is a billing event moving no credits), " +
    "charge.refunded and charge.dispute.created (a pack's unspent credits are taken back, never below zero), " +
    "subscription_schedule.created/updated/released/canceled (a downgrade scheduled for the period's end). " +
    "Other events are acknowledged.",
  security: stripeSignatureSecurity,
  responses: {
    200: { content: { "application/json": { schema: Ack, example: { received: true, event_id: "evt_1QExample", outcome: "applied" } } }, description: "Processed (or a duplicate, acknowledged)" },
    ...errorResponses(
      { body: true },
      {
        400: {
          description: "a missing or bad `Stripe-Signature`, a timestamp outside the tolerance, or a body that is not an event of a shape this service reads; nothing changed",
          message: "Missing Stripe-Signature header",
          details: { header: "Stripe-Signature" },
        },
        502: { description: "Stripe could not be reached while applying the event; Stripe retries", message: "Stripe could not be reached", details: null },
        503: "webhooks are not configured (`STRIPE_WEBHOOK_SECRET` is missing); Stripe retries",
      },
    ),
  },
});

export const webhookRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(stripeWebhook, async (c) => {
  const config = c.get("config");
  const secret = config.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new ApiError("SERVICE_UNAVAILABLE", "Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET is missing)");
  const signature = c.req.header("Stripe-Signature");
  if (!signature) throw new ApiError("VALIDATION_ERROR", "Missing Stripe-Signature header", { header: "Stripe-Signature" });
  const raw = await c.req.text();
  const stripe = stripeClient(config);
  let verified: unknown;
  try {
    verified = await stripe.webhooks.constructEventAsync(raw, signature, secret, SIGNATURE_TOLERANCE_SECONDS, cryptoProvider);
  } catch (err) {
    throw new ApiError("VALIDATION_ERROR", `Stripe signature verification failed: ${err instanceof Error ? err.message : String(err)}`, {
      header: "Stripe-Signature",
    });
  }
  const signedAt = Number(/(?:^|,)\s*t=(\d+)/.exec(signature)?.[1]);
  if (!(signedAt <= Math.floor(Date.now() / 1000) + SIGNATURE_TOLERANCE_SECONDS)) {
    throw new ApiError("VALIDATION_ERROR", "Stripe signature timestamp is in the future (outside the tolerance)", { header: "Stripe-Signature" });
  }
  const event = checkEventShape(verified);
  const started = Date.now();
  const result = await processStripeEvent({ env: c.env, db: c.get("db"), config, stripe, event });
  await recordMetric(c.env, c.get("db"), { kind: "webhook_processed", eventType: event.type, outcome: result.outcome, seconds: (Date.now() - started) / 1000 });
  return c.json({ received: true as const, event_id: event.id, outcome: result.outcome }, 200);
});

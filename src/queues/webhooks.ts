/** The optional completion webhook to the base application: signed like Stripe's, retried by the queue. */
import { loadConfig } from "../env.js";
import { WebhookMessageSchema } from "./messages.js";
import { log } from "../lib/log.js";

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
  return [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `X-Vexxy-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export async function webhookSignature(secret: string, body: string, now = Date.now()): Promise<string> {
  const t = Math.floor(now / 1000);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

export async function handleWebhookBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = loadConfig(env);
  for (const msg of batch.messages) {
    const parsed = WebhookMessageSchema.safeParse(msg.body);
    if (!parsed.success || !config.BASE_VEXXY_WEBHOOK_URL || !config.BASE_VEXXY_WEBHOOK_SECRET) {
      msg.ack();
      continue;
    }
    const body = JSON.stringify(parsed.data);
    try {
      const res = await fetch(config.BASE_VEXXY_WEBHOOK_URL, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/json", "X-Vexxy-Signature": await webhookSignature(config.BASE_VEXXY_WEBHOOK_SECRET, body), "X-Vexxy-Event": parsed.data.event },
        body,
      });
      if (res.ok) msg.ack();
      else msg.retry({ delaySeconds: Math.min(3600, 10 * 2 ** msg.attempts) });
    } catch (err) {
      log("warn", "completion webhook failed; retrying", { job_id: parsed.data.job_id, error: String(err) });
      msg.retry({ delaySeconds: Math.min(3600, 10 * 2 ** msg.attempts) });
    }
  }
}

import type { DispatchMessage, WebhookMessage } from "./messages.js";

/** One dispatch message per job (the consumer re-reads the job from D1, the source of truth). */
export async function enqueueDispatch(env: Env, msg: DispatchMessage, delaySeconds = 0): Promise<void> {
  await env.ANALYSIS_QUEUE.send(msg, delaySeconds ? { delaySeconds } : undefined);
}

export async function enqueueWebhook(env: Env, msg: WebhookMessage): Promise<void> {
  await env.WEBHOOK_QUEUE.send(msg);
}

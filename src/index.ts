/** The Worker: HTTP (Hono), Queue consumers and the cron sweep; re-exports the Durable Object classes. */
import { buildApp } from "./app.js";
import { handleDeadLetters, handleDispatchBatch } from "./services/runner/dispatchJobs.js";
import { handleWebhookBatch } from "./queues/webhooks.js";
import { sweep } from "./services/sweep.js";

export { OrgLedger } from "./ledger/durable_object.js";

const app = buildApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith("-dlq")) return handleDeadLetters(batch, env);
    if (batch.queue.startsWith("vexxy-outbound-webhooks")) return handleWebhookBatch(batch, env);
    return handleDispatchBatch(batch, env);
  },
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(sweep(env).then(() => undefined));
  },
} satisfies ExportedHandler<Env>;

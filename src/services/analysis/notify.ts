import type { Config } from "../../env.js";
import type { JobRow } from "../../db/schema.js";
import { enqueueWebhook } from "../../queues/producer.js";
import { isoNow } from "../../lib/time.js";

/** Queues the optional completion webhook to the base application (retried by the queue). */
export async function notifyBaseApp(env: Env, config: Config, job: JobRow): Promise<void> {
  if (!config.BASE_VEXXY_WEBHOOK_URL) return;
  const event = job.status === "complete" ? "analysis.completed" : job.status === "failed" ? "analysis.failed" : "analysis.cancelled";
  await enqueueWebhook(env, { event, job_id: job.id, organization_id: job.organizationId, status: job.status, occurred_at: isoNow() });
}

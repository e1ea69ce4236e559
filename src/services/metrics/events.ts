/**
 * The premium service's metrics (spec §11) as events: each is one Workers Analytics Engine data
 * point on the METRICS binding (blob1 = event, blob2 = its label, double1 = its value, index1 = the
 * organization), which the platform aggregates; docs/operations.md has the SQL for each. Events
 * that the Prometheus endpoint cannot derive from state also bump a counter in D1.
 *
 * Rate-limit refusals are written to Analytics Engine only: a flood of them must not become a flood
 * of D1 writes.
 */
import { bumpCounters, type CounterBump } from "../../db/metrics.js";
import type { Database } from "../../db/client.js";

export type MetricEvent =
  | { kind: "job_queued"; orgId: string }
  | { kind: "credits_consumed"; orgId: string; credits: number }
  | { kind: "quota_exceeded"; orgId: string | null; quotaType: string }
  | { kind: "webhook_processed"; eventType: string; outcome: string; seconds: number };

function point(e: MetricEvent): AnalyticsEngineDataPoint {
  switch (e.kind) {
    case "job_queued":
      return { indexes: [e.orgId], blobs: [e.kind, ""], doubles: [1] };
    case "credits_consumed":
      return { indexes: [e.orgId], blobs: [e.kind, ""], doubles: [e.credits] };
    case "quota_exceeded":
      return { indexes: [e.orgId ?? ""], blobs: [e.kind, e.quotaType], doubles: [1] };
    case "webhook_processed":
      return { indexes: [""], blobs: [e.kind, e.outcome, e.eventType], doubles: [e.seconds] };
  }
}

function counters(e: MetricEvent): CounterBump[] {
  if (e.kind === "quota_exceeded" && e.quotaType !== "rate_limit") {
    return [{ name: "vexxy_quota_exceeded_total", labels: `quota_type="${e.quotaType}"`, by: 1 }];
  }
  if (e.kind === "webhook_processed") {
    const labels = `outcome="${e.outcome}"`;
    return [
      { name: "vexxy_stripe_webhook_processing_seconds_count", labels, by: 1 },
      { name: "vexxy_stripe_webhook_processing_seconds_sum", labels, by: e.seconds },
    ];
  }
  return [];
}

/** Records an event; never fails the request it describes (a lost metric is logged by the platform, not the user's problem). */
export async function recordMetric(env: Pick<Env, "METRICS">, db: Database | null, event: MetricEvent): Promise<void> {
  try {
    env.METRICS?.writeDataPoint(point(event));
    if (db) await bumpCounters(db, counters(event));
  } catch (err) {
    console.warn(JSON.stringify({ level: "warn", msg: "metric not recorded", kind: event.kind, error: String(err) }));
  }
}

/**
 * Prometheus text (exposition format 0.0.4) for GET /internal/v1/metrics: gauges computed from the
 * catalog at scrape time, counters from metric_counters. An operator scrapes it beside the runner's
 * /metrics.
 */
import { catalogGauges, readCounters } from "../../db/metrics.js";
import type { Database } from "../../db/client.js";
import { JOB_STATUSES } from "../../lib/job-status.js";

const HELP: Record<string, [type: "gauge" | "counter", help: string]> = {
  vexxy_analysis_jobs: ["gauge", "Analysis jobs by status (the queue depth is status=queued)."],
  vexxy_credits_held: ["gauge", "Credits held for admitted jobs that have not ended."],
  vexxy_credits_consumed_total: ["counter", "Credits charged for analyses since the service began."],
  vexxy_quota_exceeded_total: ["counter", "Submissions refused for a monthly quota or credits (rate-limit refusals are in Analytics Engine)."],
  vexxy_stripe_webhook_processing_seconds_sum: ["counter", "Total seconds spent processing Stripe webhooks, by outcome."],
  vexxy_stripe_webhook_processing_seconds_count: ["counter", "Stripe webhooks processed, by outcome."],
};

export async function renderPrometheus(d1: D1Database, db: Database): Promise<string> {
  const [gauges, counters] = await Promise.all([catalogGauges(d1), readCounters(db)]);
  const samples: { name: string; labels: string; value: number }[] = [];
  const byStatus = new Map(gauges.jobs.map((j) => [j.status, Number(j.n)]));
  for (const status of JOB_STATUSES) samples.push({ name: "vexxy_analysis_jobs", labels: `status="${status}"`, value: byStatus.get(status) ?? 0 });
  samples.push({ name: "vexxy_credits_held", labels: "", value: gauges.held });
  samples.push({ name: "vexxy_credits_consumed_total", labels: "", value: gauges.consumed });
  for (const c of counters) samples.push(c);
  const lines: string[] = [];
  for (const name of Object.keys(HELP)) {
    const [type, help] = HELP[name]!;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples.filter((x) => x.name === name).sort((a, b) => a.labels.localeCompare(b.labels))) {
      lines.push(`${name}${s.labels ? `{${s.labels}}` : ""} ${Number.isInteger(s.value) ? s.value : s.value.toFixed(6)}`);
    }
  }
  return lines.join("\n") + "\n";
}

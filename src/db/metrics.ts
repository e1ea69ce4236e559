/**
 * The metrics' storage: counters that only events can tell (metric_counters, this module is their
 * writer), and the gauges and totals read straight from the catalog.
 */
import { sql } from "drizzle-orm";
import type { Database } from "./client.js";
import { schema } from "./client.js";

export interface CounterBump {
  name: string;
  /** Prometheus label set, already rendered: `quota_type="credits"` ("" for none). */
  labels: string;
  by: number;
}

export async function bumpCounters(db: Database, bumps: CounterBump[]): Promise<void> {
  if (!bumps.length) return;
  const t = schema.metricCounters;
  await db
    .insert(t)
    .values(bumps.map((b) => ({ name: b.name, labels: b.labels, value: b.by })))
    .onConflictDoUpdate({ target: [t.name, t.labels], set: { value: sql`${t.value} + excluded.value` } });
}

export async function readCounters(db: Database): Promise<{ name: string; labels: string; value: number }[]> {
  return db.select().from(schema.metricCounters);
}

/** Jobs by status, credits held now (Σ held_amount of every entry), and credits consumed by jobs so far. */
export async function catalogGauges(d1: D1Database): Promise<{ jobs: { status: string; n: number }[]; held: number; consumed: number }> {
  const [jobs, credits] = await d1.batch<Record<string, unknown>>([
    d1.prepare("SELECT status, COUNT(*) AS n FROM analysis_jobs GROUP BY status"),
    d1.prepare(
      `SELECT COALESCE(SUM(held_amount), 0) AS held,
              COALESCE(-SUM(CASE WHEN event_type IN ('analysis_completed', 'analysis_cancelled') THEN credits_amount ELSE 0 END), 0) AS consumed
         FROM billing_events`,
    ),
  ]);
  const c = (credits!.results[0] ?? {}) as { held?: number; consumed?: number };
  return { jobs: jobs!.results as { status: string; n: number }[], held: Number(c.held ?? 0), consumed: Number(c.consumed ?? 0) };
}

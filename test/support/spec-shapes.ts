/**
 * The spec's example bodies (§1), copied from BILLING_API_INTEGRATION_SPEC.md. A response must have
 * every field of the example with the same JSON type (null fields may hold a value of the type the
 * spec describes). Extra fields are allowed.
 */
import { expect } from "vitest";

export const SPEC_SUBSCRIPTION = {
  id: "550e8400-e29b-41d4-a716-446655440000",
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  tier: "professional",
  status: "active",
  monthly_analysis_limit: 500,
  monthly_credit_limit: 5000,
  current_period_analyses: 47,
  current_period_credits_used: 523,
  current_period_start: "2025-11-01T00:00:00Z",
  current_period_end: "2025-12-01T00:00:00Z",
  trial_end: null,
  cancel_at_period_end: false,
  created_at: "2025-10-01T14:30:00Z",
};

export const SPEC_CREDITS = { organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", credit_balance: 4477, organization_name: "Acme Corp" };

export const SPEC_USAGE = {
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  current_period_analyses: 47,
  current_period_credits_used: 523,
  monthly_analysis_limit: 500,
  monthly_credit_limit: 5000,
  current_period_start: "2025-11-01T00:00:00Z",
  current_period_end: "2025-12-01T00:00:00Z",
  utilization_percent: 10.46,
};

export const SPEC_EVENT = {
  id: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  organization_id: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  event_type: "analysis_completed",
  description: "Analysis job abc-123 completed with cost 15 credits",
  analysis_job_id: "abc-123...",
  credits_amount: -15,
  balance_after: 4477,
  created_at: "2025-11-17T10:30:00Z",
};

export const SPEC_TIER = { tier: "free", monthly_analysis_limit: 10, monthly_credit_limit: 100, priority: 0, features: ["basic_analysis"] };

/** Fields the spec allows to be null although its example shows a value (or the reverse). */
const NULLABLE = new Set(["trial_end", "analysis_job_id", "monthly_analysis_limit", "monthly_credit_limit", "utilization_percent", "estimated_completion", "started_at", "completed_at"]);
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

export function expectSpecShape(actual: Record<string, unknown>, example: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(example)) {
    expect(actual, `field ${k}`).toHaveProperty(k);
    const a = actual[k];
    if (a === null && (v === null || NULLABLE.has(k))) continue;
    if (v === null) continue;
    expect(typeof a, `type of ${k}`).toBe(typeof v);
    if (Array.isArray(v)) expect(Array.isArray(a), `${k} is an array`).toBe(true);
    if (typeof v === "string" && ISO.test(v)) expect(a, `${k} is ISO-8601 UTC`).toMatch(ISO);
    if (typeof v === "number" && Number.isInteger(v) && k !== "utilization_percent") expect(Number.isInteger(a), `${k} is an integer`).toBe(true);
  }
}

/**
 * The spec's example bodies (§1; the copies live in src/routes/spec-examples.ts, which the OpenAPI
 * document shows too). A response must have
 * every field of the example with the same JSON type (null fields may hold a value of the type the
 * spec describes). Extra fields are allowed.
 */
import { expect } from "vitest";

export { SPEC_CREDITS, SPEC_EVENT, SPEC_SUBSCRIPTION, SPEC_USAGE } from "../../src/routes/spec-examples.js";

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

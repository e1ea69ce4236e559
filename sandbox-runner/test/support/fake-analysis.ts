/**
 * A substitute for the reachability engine + VEX writer, so pipeline tests do not depend on them.
 * Its outputs are derived from its inputs (trace, health, job inputs), so tests can check that the
 * pipeline passed the right things through.
 */
import type { AnalysisContext, AnalysisSteps, ZapSummary } from "../../src/pipeline/analysis.js";

export interface FakeAnalysis extends AnalysisSteps {
  contexts: AnalysisContext[];
}

export function fakeAnalysis(overrides: Partial<AnalysisSteps> = {}): FakeAnalysis {
  const contexts: AnalysisContext[] = [];
  return {
    contexts,
    async computeReachability(ctx) {
      contexts.push(ctx);
      return {
        schema: "test.reachability",
        opened: ctx.trace.opens.length,
        healthy: ctx.health.healthy,
        exercised: ctx.health.exercised,
        had_sbom: ctx.inputs.sbom !== null,
        had_vulnerabilities: ctx.inputs.vulnerabilities !== null,
      };
    },
    async writeVex(report, ctx) {
      return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": `https://example.test/vex/${ctx.job.job_id}`,
        author: "test",
        timestamp: new Date().toISOString(),
        version: 1,
        statements: [],
        report_schema: report.schema,
      };
    },
    parseZapReport: parseZapForTests,
    ...overrides,
  };
}

/** Counts a ZAP traditional-json report's alerts by riskcode ("0"–"3"). */
function parseZapForTests(report: unknown): ZapSummary {
  const sites = (report as { site?: { alerts?: Record<string, unknown>[] }[] }).site;
  if (!Array.isArray(sites)) throw new Error("no site[] in ZAP report");
  const alerts = sites.flatMap((s) => s.alerts ?? []);
  const count = (code: string) => alerts.filter((a) => a.riskcode === code).length;
  return {
    total_alerts: alerts.length,
    high_risk: count("3"),
    medium_risk: count("2"),
    low_risk: count("1"),
    informational: count("0"),
    alerts,
  };
}

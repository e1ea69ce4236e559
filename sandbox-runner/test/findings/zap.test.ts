/** ZAP traditional-json: counts computed here straight from the fixture, compared with the parser. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SecurityFindingsSchema } from "@vexxy/contract";
import { ZapReportError, parseZapReport } from "../../src/findings/zap.js";
import { fixturePath } from "../support/fixtures.js";

type RawAlert = { name: string; riskcode: string; confidence: string; cweid: string; pluginid: string; count: string; instances: { uri: string; method: string; param: string; evidence: string }[]; solution: string };
const raw = JSON.parse(readFileSync(fixturePath("zap/zap-2.16.1-traditional-json-report.json"), "utf8")) as { site: { alerts: RawAlert[] }[] };
const rawAlerts = raw.site.flatMap((s) => s.alerts);
const countRisk = (code: string) => rawAlerts.filter((a) => a.riskcode === code).length;

describe("parseZapReport on a real ZAP 2.16.1 report", () => {
  const z = parseZapReport(raw);

  it("counts alerts per risk code across all sites", () => {
    expect(z.total_alerts).toBe(rawAlerts.length);
    expect(z.high_risk).toBe(countRisk("3"));
    expect(z.medium_risk).toBe(countRisk("2"));
    expect(z.low_risk).toBe(countRisk("1"));
    expect(z.informational).toBe(countRisk("0"));
    expect(z.high_risk + z.medium_risk + z.low_risk + z.informational).toBe(z.total_alerts);
    expect(z.medium_risk).toBeGreaterThan(0); // the fixture has a CORS misconfiguration
  });

  it("keeps each alert's fields, numbers as numbers, first 10 instances, highest risk first", () => {
    const cors = rawAlerts.find((a) => a.name === "CORS Misconfiguration")!;
    const parsed = z.alerts.find((a) => a.name === "CORS Misconfiguration")!;
    expect(parsed).toMatchObject({ risk: "Medium", riskcode: 2, cweid: Number(cors.cweid), pluginid: cors.pluginid, count: Number(cors.count), confidence: "High" });
    expect(parsed.instances).toHaveLength(Math.min(10, cors.instances.length));
    expect(parsed.instances[0]).toEqual({ uri: cors.instances[0]!.uri, method: cors.instances[0]!.method });
    expect(parsed.solution).not.toMatch(/<p>/);
    expect(z.alerts.map((a) => a.riskcode)).toEqual([...z.alerts.map((a) => a.riskcode)].sort((a, b) => b - a));
    for (const a of z.alerts) expect(a.instances.length).toBeLessThanOrEqual(10);
  });

  it("fits the Worker's SecurityFindings contract", () => {
    expect(SecurityFindingsSchema.safeParse({ status: "completed", ...z }).success).toBe(true);
  });

  it("rejects what is not a report, skips alerts with an invalid riskcode", () => {
    expect(() => parseZapReport({ alerts: [] })).toThrow(ZapReportError);
    const z2 = parseZapReport({ site: [{ alerts: [{ name: "x", riskcode: "7" }, { name: "y", riskcode: "3", count: "2", cweid: "-1" }] }] });
    expect(z2).toMatchObject({ total_alerts: 1, high_risk: 1 });
    expect(z2.alerts[0]).toMatchObject({ cweid: null, count: 2, instances: [] });
  });
});

/**
 * The pipeline with the production analysis (reachability engine, OpenVEX writer, ZAP parser) on
 * shared fixtures: a Syft SBOM and Grype matches for the same alpine image, served by the Worker as
 * the job's inputs. Proves the wiring end to end; the engine's rules have their own tests.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { CompleteCallbackSchema } from "@vexxy/contract";
import { createDefaultAnalysis } from "../../src/pipeline/default-analysis.js";
import { silentLogger } from "../../src/pipeline/log.js";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { sampleTrace, type FakeBehaviour } from "../support/fake-driver.js";
import { makeJob } from "../support/jobs.js";
import { dispatch } from "../support/signed-client.js";
import { fixturePath } from "../support/fixtures.js";

const fixture = (p: string) => JSON.parse(readFileSync(fixturePath(p), "utf8")) as Record<string, unknown>;
const sbom = fixture("syft/alpine-3.17-sbom.syft.json");
const grype = fixture("grype/alpine-3.17-matches.grype.json");
const zap = fixture("zap/zap-2.16.1-traditional-json-report.json");
const vexSchema = fixture("openvex/openvex_json_schema_0.2.0.json");

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe("pipeline with the production analysis", () => {
  it("turns fixtures + a trace into a schema-valid OpenVEX document and findings", async () => {
    const trace = sampleTrace({
      execs: [{ pid: 1, path: "/bin/busybox", argv: ["sh"], ok: true }],
      opens: [{ pid: 1, path: "/lib/libssl.so.3", flags: "O_RDONLY|O_CLOEXEC", ok: true }],
      mmaps: [{ pid: 1, path: "/lib/libssl.so.3", exec: true }],
    });
    h = await startHarness({
      analysis: createDefaultAnalysis({ vex: { author: "VEXxy Premium Analysis", idBase: "https://vexxy.example/vex" }, logger: silentLogger }),
      behaviour: {
        securityScan: async () => ({ status: "completed", report: zap }),
        stop: async () => ({ trace, coverage: { supported: false }, exitCode: null, oomKilled: false }),
      },
    });
    const job = makeJob({
      image_ref: "docker.io/library/alpine:3.17",
      config: { enable_fuzzing: true },
      inputs: { sbom: true, vulnerabilities: true },
    });
    h.worker.inputs.set(job.job_id, { sbom, vulnerabilities: grype });
    await dispatch(h.url, SECRET, job);
    const final = await h.worker.final(job.job_id, 10_000);
    expect(final.kind, JSON.stringify(final.body)).toBe("complete");
    const complete = CompleteCallbackSchema.parse(final.body);

    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    // JSON-LD ids: ajv-formats has no "iri"; an absolute URL is what OpenVEX consumers expect.
    ajv.addFormat("iri", (v: string) => URL.canParse(v));
    const valid = ajv.validate(vexSchema, complete.vex_document);
    expect(ajv.errors ?? [], JSON.stringify(ajv.errors)).toEqual([]);
    expect(valid).toBe(true);
    expect(complete.vex_document!.author).toBe("VEXxy Premium Analysis");

    const report = complete.reachability_results as { decisions: { package: { name: string }; status: string }[] };
    expect(report.decisions.length).toBe((grype.matches as unknown[]).length);
    // libssl3 was loaded as executable code: no statement may call it not_affected.
    const ssl = report.decisions.filter((d) => d.package.name === "libssl3");
    expect(ssl.length).toBeGreaterThan(0);
    for (const d of ssl) expect(d.status).not.toBe("not_affected");

    const risks = (zap.site as { alerts: { riskcode: string }[] }[]).flatMap((s) => s.alerts.map((a) => a.riskcode));
    expect(complete.security_findings).toMatchObject({
      status: "completed",
      total_alerts: risks.length,
      medium_risk: risks.filter((r) => r === "2").length,
      low_risk: risks.filter((r) => r === "1").length,
      informational: risks.filter((r) => r === "0").length,
    });
    expect(complete.features_ran.fuzzing).toBe(true);
  });
});

describe("what the run proves (issue #13, classes 6 and 8)", () => {
  const analysis = () => createDefaultAnalysis({ vex: { author: "VEXxy Premium Analysis", idBase: "https://vexxy.example/vex" }, logger: silentLogger });
  const trace = sampleTrace({ execs: [{ pid: 1, path: "/bin/busybox", argv: ["sh"], ok: true }], opens: [], mmaps: [] });

  async function runWith(behaviour: FakeBehaviour, over: Parameters<typeof makeJob>[0] = {}, inputs = { sbom, vulnerabilities: grype }) {
    h = await startHarness({ analysis: analysis(), behaviour });
    const job = makeJob({ image_ref: "docker.io/library/alpine:3.17", inputs: { sbom: true, vulnerabilities: true }, ...over });
    h.worker.inputs.set(job.job_id, inputs);
    await dispatch(h.url, SECRET, job);
    const final = await h.worker.final(job.job_id, 10_000);
    expect(final.kind, JSON.stringify(final.body)).toBe("complete");
    return CompleteCallbackSchema.parse(final.body);
  }
  const summary = (c: { reachability_results: Record<string, unknown> }) =>
    c.reachability_results.summary as { not_affected: number; vulnerable_code_not_in_execute_path: number };

  it("a service that passed its health check and then crashed was not healthy: no absence claims", async () => {
    const up = await runWith({ stop: async () => ({ trace, coverage: { supported: false }, exitCode: null, oomKilled: false, wasRunning: true }) });
    expect(summary(up).vulnerable_code_not_in_execute_path).toBeGreaterThan(0);
    await h.close();
    const crashed = await runWith({ stop: async () => ({ trace, coverage: { supported: false }, exitCode: 139, oomKilled: false, wasRunning: false }) });
    expect(summary(crashed).vulnerable_code_not_in_execute_path).toBe(0);
    expect(JSON.stringify(crashed.reachability_results)).toContain("the application exited (code 139) before the run ended");
  });

  it("a main process gone before the test script finished, or a trace shorter than the script: no absence claims", async () => {
    const early = await runWith({ isRunning: async () => false });
    expect(summary(early).vulnerable_code_not_in_execute_path).toBe(0);
    await h.close();
    const shortTrace = { ...trace, duration_ms: 5 };
    const longScript = await runWith({
      runScript: async () => ({ exitCode: 0, stdout: "", stderr: "", timedOut: false, durationMs: 5_000 }),
      stop: async () => ({ trace: shortTrace, coverage: { supported: false }, exitCode: null, oomKilled: false, wasRunning: true }),
    });
    expect(summary(longScript).vulnerable_code_not_in_execute_path).toBe(0);
  });

  it("the strict policy keeps only high-confidence not_affected; every decision says its confidence", async () => {
    const standard = await runWith({ stop: async () => ({ trace, coverage: { supported: false }, exitCode: null, oomKilled: false, wasRunning: true }) });
    const decisions = standard.reachability_results.decisions as { confidence: string; status: string }[];
    expect(decisions.every((d) => ["high", "medium", "low"].includes(d.confidence))).toBe(true);
    // No image was read here (the fake driver has none), so absence claims are medium at best.
    expect(decisions.filter((d) => d.status === "not_affected").every((d) => d.confidence === "medium")).toBe(true);
    await h.close();
    const strict = await runWith(
      { stop: async () => ({ trace, coverage: { supported: false }, exitCode: null, oomKilled: false, wasRunning: true }) },
      { config: { vex_policy: "strict" } },
    );
    expect(summary(strict).vulnerable_code_not_in_execute_path).toBe(0);
  });

  it("no vulnerability matched: vex_document is null (OpenVEX needs a statement) and the report says why", async () => {
    const complete = await runWith({}, {}, { sbom, vulnerabilities: { matches: [], source: { type: "image" }, descriptor: { name: "grype" } } });
    expect(complete.vex_document).toBeNull();
    expect((complete.reachability_results.notes as string[]).join(" ")).toContain("no VEX document is issued");
  });
});

/**
 * The pipeline with the production analysis (reachability engine, OpenVEX writer, ZAP parser) on
 * shared fixtures: a Syft SBOM and Grype matches for the same alpine image, served by the Worker as
 * the job's inputs. Proves the wiring end to end; the engine's rules have their own tests.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { CompleteCallbackSchema } from "../../../src/queues/contract.js";
import { createDefaultAnalysis } from "../../src/pipeline/default-analysis.js";
import { silentLogger } from "../../src/pipeline/log.js";
import { SECRET, startHarness, type Harness } from "../support/harness.js";
import { sampleTrace } from "../support/fake-driver.js";
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
    expect(complete.vex_document.author).toBe("VEXxy Premium Analysis");

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

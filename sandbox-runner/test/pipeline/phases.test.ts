import { describe, expect, it } from "vitest";
import { JOB_PHASES } from "@vexxy/contract";
import { planPhases } from "../../src/pipeline/phases.js";

describe("planPhases", () => {
  it("with fuzzing: every phase, starting at 0, strictly rising, below 100", () => {
    const plan = planPhases({ enable_fuzzing: true });
    expect(plan.phases).toEqual(JOB_PHASES);
    const starts = plan.phases.map((p) => plan.start(p));
    expect(starts[0]).toBe(0);
    for (let i = 1; i < starts.length; i++) expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
    expect(plan.end("writing_vex")).toBeLessThan(100);
    for (const p of plan.phases.slice(0, -1)) expect(plan.end(p)).toBe(plan.start(plan.phases[plan.phases.indexOf(p) + 1]!));
  });

  it("without fuzzing: no security_scan, and the remaining phases share the whole range", () => {
    const plan = planPhases({ enable_fuzzing: false });
    expect(plan.phases).not.toContain("security_scan");
    expect(() => plan.start("security_scan")).toThrow();
    const withScan = planPhases({ enable_fuzzing: true });
    // The script phase owns a larger share when there is no scan after it.
    expect(plan.end("running_test_script") - plan.start("running_test_script")).toBeGreaterThan(
      withScan.end("running_test_script") - withScan.start("running_test_script"),
    );
  });
});

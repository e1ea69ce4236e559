import { describe, expect, it } from "vitest";
import { PROFILE_LIMITS, buildExecutionProfile, type ProfileInput } from "../../src/pipeline/execution-profile.js";
import { sampleTrace } from "../support/fake-driver.js";

const base: ProfileInput = {
  trace: sampleTrace(),
  coverage: { supported: false },
  health: { healthy: true, exercised: true, notes: [] },
  script: null,
  probes: null,
  exitCode: null,
  sandboxSeconds: 3,
  profiling: true,
  codeCoverage: false,
};

describe("buildExecutionProfile", () => {
  it("bounds long lists but keeps exact totals", () => {
    const n = PROFILE_LIMITS.files + 25;
    const opens = Array.from({ length: n }, (_, i) => ({ pid: 1, path: `/f/${String(i).padStart(6, "0")}`, flags: "O_RDONLY", ok: true }));
    const p = buildExecutionProfile({ ...base, trace: sampleTrace({ opens }) });
    expect(p.files_accessed_count).toBe(n);
    const files = p.files_accessed as { items: string[]; truncated: boolean; total: number };
    expect(files.items).toHaveLength(PROFILE_LIMITS.files);
    expect(files).toMatchObject({ truncated: true, total: n });
  });

  it("keeps the end of a long script output, where the failure is", () => {
    const stdout = "x".repeat(PROFILE_LIMITS.outputBytes * 2) + "FINAL LINE";
    const p = buildExecutionProfile({ ...base, script: { exitCode: 1, stdout, stderr: "", timedOut: false, durationMs: 1 } });
    const out = (p.test_script as { stdout: string }).stdout;
    expect(out.endsWith("FINAL LINE")).toBe(true);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(PROFILE_LIMITS.outputBytes + 4);
  });
});

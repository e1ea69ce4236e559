/** The one settlement policy (lib/cost.ts), used by complete, fail, cancel and the ledger's clamp. */
import { describe, expect, it } from "vitest";
import { clampToHold, settlementCost } from "../src/lib/cost.js";

const none = { fuzzing: false, profiling: false, code_coverage: false };

describe("settlementCost", () => {
  it("a completed job pays base + the features that ran + started 5-minute blocks, up to its hold", () => {
    expect(settlementCost({ outcome: "completed", featuresRan: { ...none, profiling: true }, sandboxSeconds: 301 }, 40)).toBe(10 + 3 + 2);
    expect(settlementCost({ outcome: "completed", featuresRan: { fuzzing: true, profiling: true, code_coverage: true }, sandboxSeconds: 3600 }, 30)).toBe(30);
  });

  it("nothing when the sandbox never ran or the service was at fault; base + run time otherwise", () => {
    expect(settlementCost({ outcome: "failed", serviceFault: true, sandboxRan: true, sandboxSeconds: 900 }, 40)).toBe(0);
    expect(settlementCost({ outcome: "failed", serviceFault: false, sandboxRan: false, sandboxSeconds: 0 }, 40)).toBe(0);
    expect(settlementCost({ outcome: "failed", serviceFault: false, sandboxRan: true, sandboxSeconds: 601 }, 40)).toBe(10 + 3);
    expect(settlementCost({ outcome: "cancelled", sandboxRan: false, sandboxSeconds: 0 }, 40)).toBe(0);
    expect(settlementCost({ outcome: "cancelled", sandboxRan: true, sandboxSeconds: 1 }, 40)).toBe(11);
  });

  it("an unmetered plan's hold of 0 clamps nothing; costs are whole credits, never negative", () => {
    expect(settlementCost({ outcome: "cancelled", sandboxRan: true, sandboxSeconds: 1 }, 0)).toBe(11);
    expect(clampToHold(12.7, 0)).toBe(12);
    expect(clampToHold(-3, 10)).toBe(0);
    expect(clampToHold(25, 10)).toBe(10);
  });
});

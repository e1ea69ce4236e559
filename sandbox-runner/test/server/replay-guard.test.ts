import { describe, expect, it } from "vitest";
import { SIGNATURE_TOLERANCE_SECONDS } from "@vexxy/contract";
import { ReplayGuard } from "../../src/server/replay-guard.js";

describe("ReplayGuard", () => {
  it("refuses a nonce it has seen while the signature window is open, and forgets it after", () => {
    let now = 1_000_000_000_000;
    const guard = new ReplayGuard(10, () => now);
    const ts = now / 1000;
    expect(guard.check("nonce-aaaa", ts)).toBe("fresh");
    expect(guard.check("nonce-aaaa", ts)).toBe("replayed");
    now += (SIGNATURE_TOLERANCE_SECONDS + 1) * 1000;
    // By now verifyRequest would refuse the timestamp anyway, so the nonce may be forgotten.
    expect(guard.check("nonce-aaaa", ts)).toBe("fresh");
  });

  it("stays bounded: sweeps expired nonces, and refuses rather than forgets live ones", () => {
    let now = 1_000_000_000_000;
    const guard = new ReplayGuard(3, () => now);
    for (const n of ["n-1aaaaaaa", "n-2aaaaaaa", "n-3aaaaaaa"]) expect(guard.check(n, now / 1000)).toBe("fresh");
    expect(guard.check("n-4aaaaaaa", now / 1000)).toBe("full");
    expect(guard.check("n-1aaaaaaa", now / 1000)).toBe("replayed");
    now += (SIGNATURE_TOLERANCE_SECONDS + 1) * 1000;
    expect(guard.check("n-5aaaaaaa", now / 1000)).toBe("fresh");
    expect(guard.size).toBe(1);
  });
});

import type { ResolvedConfig } from "./config.js";

/** Pulling and starting the sandbox, then the test window, then the scan and post-processing. */
export function estimateDurationMinutes(c: Pick<ResolvedConfig, "test_timeout" | "enable_fuzzing">): number {
  return 2 + Math.ceil(c.test_timeout / 60) + (c.enable_fuzzing ? 5 : 0) + 1;
}

/** Shared builders for the reachability tests: fixtures from ../shared beside the repository, synthetic traces. */
import { readFileSync } from "node:fs";
import type { RunHealth, RuntimeTrace } from "../../src/trace/types.js";

import { FIXTURES } from "../support/fixtures.js";
export { FIXTURES };
export const ALPINE_317_DIGEST = "sha256:e2e16842c9b54d985bf1ef9242a313f36b856181f188de21313820e177002501";

export function fixture(rel: string): unknown {
  return JSON.parse(readFileSync(`${FIXTURES}/${rel}`, "utf8"));
}

export function sample(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./samples/${name}`, import.meta.url), "utf8"));
}

export interface TraceSpec {
  exec?: string[];
  map?: string[];
  /** read-only opens */
  open?: string[];
  complete?: boolean;
  fromFirstExec?: boolean;
}

export function trace(spec: TraceSpec = {}): RuntimeTrace {
  return {
    source: "synthetic",
    from_first_exec: spec.fromFirstExec ?? true,
    complete: spec.complete ?? true,
    duration_ms: 42_000,
    execs: (spec.exec ?? []).map((path, i) => ({ pid: 100 + i, path, argv: [path], ok: true })),
    opens: (spec.open ?? []).map((path) => ({ pid: 1, path, flags: "O_RDONLY|O_CLOEXEC", ok: true })),
    mmaps: (spec.map ?? []).map((path) => ({ pid: 1, path, exec: true })),
    connections: [],
    syscall_counts: {},
  };
}

export const HEALTHY: RunHealth = { healthy: true, exercised: true, exercised_by: "test_script", notes: ["test script exited 0"] };
export const ON = { enabled: true, unlockTier: "starter" };

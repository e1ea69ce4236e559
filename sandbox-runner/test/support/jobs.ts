/** Dispatch payloads for tests: valid by default, overridable field by field. */
import { randomUUID } from "node:crypto";
import type { DispatchJob, JobConfig } from "@vexxy/contract";

export function makeJob(overrides: Partial<Omit<DispatchJob, "config">> & { config?: Partial<JobConfig> } = {}): DispatchJob {
  const { config, ...rest } = overrides;
  return {
    job_id: randomUUID(),
    organization_id: randomUUID(),
    image_ref: "docker.io/library/nginx:1.25",
    image_digest: "sha256:" + "ab".repeat(32),
    reachability_verdicts: true,
    verdicts_tier: "professional",
    inputs: { sbom: false, vulnerabilities: false },
    lease_seconds: 120,
    attempt: 1,
    ...rest,
    config: {
      test_script: "curl -fsS http://localhost:80/",
      test_timeout: 60,
      enable_fuzzing: false,
      enable_profiling: true,
      enable_code_coverage: false,
      ports: [80],
      environment: { MODE: "test" },
      ...config,
    },
  };
}

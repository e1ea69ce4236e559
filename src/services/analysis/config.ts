/**
 * An analysis request's configuration, resolved: explicit values win, a profile fills what is unset,
 * defaults fill the rest. The route validates the request (routes/analysis/schemas.ts) against the
 * limits here; quote and submit resolve it the same way.
 */

const PROFILES = {
  minimal: { test_timeout: 120, enable_fuzzing: false, enable_profiling: false, enable_code_coverage: false },
  standard: { test_timeout: 300, enable_fuzzing: false, enable_profiling: true, enable_code_coverage: false },
  comprehensive: { test_timeout: 900, enable_fuzzing: true, enable_profiling: true, enable_code_coverage: true },
} as const;
const DEFAULT_CONFIG = { test_timeout: 300, enable_fuzzing: false, enable_profiling: false, enable_code_coverage: false } as const;

export const MAX_ENV_VARS = 64;
export const MAX_ENV_VALUE = 4096;
export const MAX_TEST_SCRIPT = 16 * 1024;
export const MAX_INLINE_DOCUMENT_BYTES = 5 * 1024 * 1024;

export type VexPolicy = "standard" | "strict";

/** A validated analysis request, as the route's schema lets it through. */
export interface AnalysisInput {
  image_ref: string;
  image_digest: string;
  sbom_id?: string | null;
  profile?: keyof typeof PROFILES;
  config?: {
    test_script?: string | null;
    test_timeout?: number;
    enable_fuzzing?: boolean;
    enable_profiling?: boolean;
    enable_code_coverage?: boolean;
    vex_policy?: VexPolicy;
    ports?: number[];
    environment?: Record<string, string>;
  };
  sbom?: Record<string, unknown>;
  vulnerabilities?: Record<string, unknown>;
}

export interface ResolvedConfig {
  test_script: string | null;
  test_timeout: number;
  enable_fuzzing: boolean;
  enable_profiling: boolean;
  enable_code_coverage: boolean;
  /** Absent: the organization's default applies when the job is dispatched. */
  vex_policy?: VexPolicy;
  ports: number[];
  environment: Record<string, string>;
}

/** Explicit config wins; a profile fills what is unset; defaults fill the rest. */
export function resolveConfig(req: AnalysisInput): ResolvedConfig {
  const preset = req.profile ? PROFILES[req.profile] : DEFAULT_CONFIG;
  const c = req.config ?? {};
  return {
    test_script: c.test_script ?? null,
    test_timeout: c.test_timeout ?? preset.test_timeout,
    enable_fuzzing: c.enable_fuzzing ?? preset.enable_fuzzing,
    enable_profiling: c.enable_profiling ?? preset.enable_profiling,
    enable_code_coverage: c.enable_code_coverage ?? preset.enable_code_coverage,
    ...(c.vex_policy ? { vex_policy: c.vex_policy } : {}),
    ports: c.ports ?? [],
    environment: c.environment ?? {},
  };
}

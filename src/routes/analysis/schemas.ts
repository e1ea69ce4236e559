import { z } from "@hono/zod-openapi";
import { parseImageReference, SHA256_DIGEST } from "../../lib/oci.js";
import { MAX_ENV_VALUE, MAX_ENV_VARS, MAX_INLINE_DOCUMENT_BYTES, MAX_TEST_SCRIPT } from "../../services/analysis/config.js";

const EnvName = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const AnalysisConfigSchema = z
  .object({
    test_script: z.string().max(MAX_TEST_SCRIPT, `must be at most ${MAX_TEST_SCRIPT} characters`).nullable().optional().openapi({ example: "curl http://localhost:80" }),
    test_timeout: z.number().int("must be a whole number of seconds").min(60, "must be at least 60 seconds").max(3600, "must be at most 3600 seconds").optional().openapi({ example: 300 }),
    enable_fuzzing: z.boolean().optional(),
    enable_profiling: z.boolean().optional(),
    enable_code_coverage: z.boolean().optional(),
    vex_policy: z
      .enum(["standard", "strict"])
      .optional()
      .openapi({
        description:
          "How sure a runtime not_affected must be; unset, the organization's `default_vex_policy` (GET/PATCH /api/v1/organization/settings) applies. `standard` issues not_affected at high or medium confidence; `strict` only at high confidence (a complete installed-file list, the image's executables read, a passing test script), and says under_investigation otherwise. Every decision's confidence is in `reachability_results.decisions[].confidence`.",
        example: "standard",
      }),
    ports: z
      .array(z.number().int().min(1, "ports are 1–65535").max(65535, "ports are 1–65535"))
      .max(16, "at most 16 ports")
      .refine((p) => new Set(p).size === p.length, "ports must be unique")
      .optional()
      .openapi({ example: [80, 443] }),
    environment: z
      .record(z.string(), z.string().max(MAX_ENV_VALUE, `values must be at most ${MAX_ENV_VALUE} characters`))
      .superRefine((env, ctx) => {
        const names = Object.keys(env);
        if (names.length > MAX_ENV_VARS) ctx.addIssue({ code: "custom", message: `at most ${MAX_ENV_VARS} variables` });
        for (const n of names) if (!EnvName.test(n)) ctx.addIssue({ code: "custom", path: [n], message: "invalid variable name" });
      })
      .optional()
      .openapi({ example: { ENV_VAR: "value" } }),
  })
  .strict()
  .openapi("AnalysisConfig");

const boundedJson = (what: string) =>
  z
    .record(z.string(), z.unknown())
    .refine((v) => JSON.stringify(v).length <= MAX_INLINE_DOCUMENT_BYTES, `${what} must be at most ${MAX_INLINE_DOCUMENT_BYTES} bytes`);

export const AnalysisRequestSchema = z
  .object({
    image_ref: z
      .string()
      .min(1)
      .max(512)
      .refine((r) => parseImageReference(r) !== null, "must be an OCI image reference, e.g. nginx:1.25 or registry.example.com:5000/team/app:tag")
      .openapi({
        example: "nginx:1.25",
        description:
          "The image to analyse. Its registry must be public: loopback, link-local (metadata), private and internal names (localhost, single-label, .local, .internal) are refused with 400 unless the operator allows them (RUNNER_ALLOWED_REGISTRIES).",
      }),
    image_digest: z
      .string()
      .regex(SHA256_DIGEST, "must be sha256: followed by 64 lowercase hex digits (the job runs the image pinned by this digest)")
      .openapi({ example: "sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31" }),
    sbom_id: z.string().uuid("must be a UUID").nullable().optional(),
    profile: z.enum(["minimal", "standard", "comprehensive"]).optional(),
    config: AnalysisConfigSchema.optional(),
    sbom: boundedJson("sbom").optional().openapi({ description: "Inline SBOM: CycloneDX 1.4–1.6, SPDX 2.3 or Syft JSON" }),
    vulnerabilities: boundedJson("vulnerabilities").optional().openapi({ description: "Inline scan: Grype JSON, Trivy JSON or CycloneDX with vulnerabilities" }),
  })
  .strict()
  .superRefine((r, ctx) => {
    const ref = parseImageReference(r.image_ref);
    if (ref?.digest && ref.digest !== r.image_digest) {
      ctx.addIssue({ code: "custom", path: ["image_digest"], message: "differs from the digest in image_ref" });
    }
  })
  .openapi("AnalysisRequest");

type AnalysisRequest = z.infer<typeof AnalysisRequestSchema>;

const CostLineSchema = z.object({ item: z.string(), description: z.string(), credits: z.number().int() });

export const QuoteSchema = z
  .object({
    line_items: z.array(CostLineSchema),
    max_cost_credits: z.number().int().openapi({ description: "The hold admission would place (cost if the job ran its whole test_timeout)" }),
    hold_credits: z.number().int().openapi({ description: "0 on unmetered plans" }),
    available_credits: z.number().int().nullable(),
    would_be_admitted: z.boolean(),
    refusal: z.object({ error: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) }).nullable(),
    config: z.record(z.string(), z.unknown()),
  })
  .openapi("Quote");

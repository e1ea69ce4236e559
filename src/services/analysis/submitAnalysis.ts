import type { Database } from "../../db/client.js";
import type { JobRow } from "../../db/schema.js";
import { getJob, insertJob } from "../../db/jobs.js";
import type { Config } from "../../env.js";
import type { RequestContext } from "../../middleware/auth.js";
import { ApiError } from "../../errors/api-error.js";
import { ledgerFor, refusalError } from "../../ledger/client.js";
import type { AdmitResult } from "../../ledger/interface.js";
import { resolveConfig, type AnalysisRequest } from "../../routes/analysis/schemas.js";
import { canonicalJson, sha256Hex } from "../../lib/hash.js";
import { iso, isoNow } from "../../lib/time.js";
import { detectSbomFormat, detectVulnFormat } from "./documentFormats.js";
import { fetchBaseSbom } from "./fetchBaseSbom.js";
import { inputKey, putJson } from "./storage.js";
import { estimateDurationMinutes } from "./estimate.js";
import { enqueueDispatch } from "../../queues/producer.js";
import { log } from "../../lib/log.js";

export interface SubmitResult {
  job: JobRow;
  replay: boolean;
  rateLimit: Record<string, string>;
}

/**
 * Submits an analysis: inputs checked and stored, admission through the organization's ledger (hold
 * for the maximum cost, idempotent by Idempotency-Key), then the job row and one queue message.
 */
export async function submitAnalysis({
  env,
  db,
  config,
  auth,
  input,
  idempotencyKey,
  bearer,
}: {
  env: Env;
  db: Database;
  config: Config;
  auth: RequestContext;
  input: AnalysisRequest;
  idempotencyKey: string | null;
  bearer: string;
}): Promise<SubmitResult> {
  const cfg = resolveConfig(input);
  if (input.sbom && !detectSbomFormat(input.sbom)) {
    throw new ApiError("VALIDATION_ERROR", "sbom is not CycloneDX 1.4–1.6, SPDX 2.3 or Syft JSON", { fields: [{ field: "sbom", message: "unrecognised format" }] });
  }
  if (input.vulnerabilities && !detectVulnFormat(input.vulnerabilities)) {
    throw new ApiError("VALIDATION_ERROR", "vulnerabilities is not Grype JSON, Trivy JSON or CycloneDX with vulnerabilities", {
      fields: [{ field: "vulnerabilities", message: "unrecognised format" }],
    });
  }
  const requestHash = await sha256Hex(canonicalJson(input));
  const ledger = ledgerFor(env, auth.orgId);
  const jobId = crypto.randomUUID();
  const admitted = (await ledger.admit({
    orgId: auth.orgId,
    jobId,
    features: { fuzzing: cfg.enable_fuzzing, profiling: cfg.enable_profiling, code_coverage: cfg.enable_code_coverage },
    testTimeoutSeconds: cfg.test_timeout,
    ...(idempotencyKey ? { idempotencyKey, requestHash } : {}),
  })) as unknown as AdmitResult;
  if (!admitted.ok) throw refusalError(admitted.refusal);
  const id = admitted.jobId;
  if (admitted.replay) {
    const existing = await getJob(db, auth.orgId, id);
    if (existing) return { job: existing, replay: true, rateLimit: admitted.rateLimit ?? {} };
    // Admitted before, but the job row was never written (the earlier request died): finish it now.
  }

  let job: JobRow;
  try {
    let sbom = input.sbom ?? null;
    if (!sbom && input.sbom_id && config.BASE_VEXXY_URL) sbom = await fetchBaseSbom(config, input.sbom_id, bearer);
    if (sbom) await putJson(env.ARTIFACTS, inputKey(auth.orgId, id, "sbom"), sbom);
    if (input.vulnerabilities) await putJson(env.ARTIFACTS, inputKey(auth.orgId, id, "vulnerabilities"), input.vulnerabilities);
    const now = isoNow();
    const { environment, ...publicConfig } = cfg;
    job = await insertJob(db, {
      id,
      organizationId: auth.orgId,
      userId: auth.userId,
      status: "queued",
      imageRef: input.image_ref,
      imageDigest: input.image_digest,
      sbomId: input.sbom_id ?? null,
      profile: input.profile ?? null,
      configJson: JSON.stringify(publicConfig),
      environmentJson: JSON.stringify(environment),
      sbomKey: sbom ? inputKey(auth.orgId, id, "sbom") : null,
      vulnerabilitiesKey: input.vulnerabilities ? inputKey(auth.orgId, id, "vulnerabilities") : null,
      maxCost: admitted.hold,
      estimatedDurationMinutes: estimateDurationMinutes(cfg),
      createdAt: now,
      updatedAt: now,
    });
    await enqueueDispatch(env, { job_id: id, organization_id: auth.orgId });
  } catch (err) {
    // Nothing will run: give the hold and the analysis back before answering.
    const row = await getJob(db, auth.orgId, id).catch(() => null);
    if (!row) {
      await ledger.voidHold({ orgId: auth.orgId, jobId: id, reason: "submission failed before the job was recorded", refundAnalysis: true });
    } else {
      // The row exists, only the queue send failed: the cron sweep re-dispatches undispatched jobs.
      log("warn", "dispatch enqueue failed; the sweep will retry", { job_id: id, error: String(err) });
      return { job: row, replay: admitted.replay, rateLimit: admitted.rateLimit ?? {} };
    }
    throw err;
  }
  return { job, replay: admitted.replay, rateLimit: admitted.rateLimit ?? {} };
}

export function submitView(job: JobRow) {
  return {
    job_id: job.id,
    status: job.status,
    image_ref: job.imageRef,
    image_digest: job.imageDigest,
    estimated_duration_minutes: job.estimatedDurationMinutes,
    created_at: job.createdAt,
    max_cost_credits: job.maxCost,
  };
}

export { iso };

import type { Database } from "../../db/client.js";
import type { JobRow } from "../../db/schema.js";
import { admittedJobRow, getJob, type AdmittedJob, type NewJobRecord } from "../../db/jobs.js";
import type { Config } from "../../env.js";
import type { RequestContext } from "../identity/context.js";
import { ApiError } from "../../errors/api-error.js";
import { ledgerFor, refusalError } from "../../ledger/client.js";
import type { AdmitResult, QuotaState } from "../../ledger/interface.js";
import { resolveConfig, type AnalysisInput } from "./config.js";
import { canonicalJson, sha256Hex } from "../../lib/hash.js";
import { iso, isoNow } from "../../lib/time.js";
import { detectSbomFormat, detectVulnFormat } from "./documentFormats.js";
import { fetchBaseSbom } from "./fetchBaseSbom.js";
import { inputKey, putJson } from "./storage.js";
import { estimateDurationMinutes } from "./estimate.js";
import { checkRegistryEgress } from "./registryEgress.js";
import { recordMetric } from "../metrics/events.js";

export interface SubmitResult {
  job: SubmittedJob;
  replay: boolean;
  /** The monthly-analyses quota after this submission (absent when unlimited). */
  quota?: QuotaState;
}

export type SubmittedJob = Pick<JobRow, "id" | "status" | "imageRef" | "imageDigest" | "estimatedDurationMinutes" | "createdAt" | "maxCost">;

/**
 * Submits an analysis: inputs checked and stored, then ONE call to the organization's ledger that
 * admits it (hold for the maximum cost, idempotent by Idempotency-Key) and records the job in the
 * same transaction. The ledger then delivers the job to D1 and the dispatch queue itself; until it
 * has, readers get the job from the ledger (findJob).
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
  input: AnalysisInput;
  idempotencyKey: string | null;
  bearer: string;
}): Promise<SubmitResult> {
  const cfg = resolveConfig(input);
  checkRegistryEgress(input.image_ref, config);
  if (input.sbom && !detectSbomFormat(input.sbom)) {
    throw new ApiError("VALIDATION_ERROR", "sbom is not CycloneDX 1.4–1.6, SPDX 2.3 or Syft JSON", { fields: [{ field: "sbom", message: "unrecognised format" }] });
  }
  if (input.vulnerabilities && !detectVulnFormat(input.vulnerabilities)) {
    throw new ApiError("VALIDATION_ERROR", "vulnerabilities is not Grype JSON, Trivy JSON or CycloneDX with vulnerabilities", {
      fields: [{ field: "vulnerabilities", message: "unrecognised format" }],
    });
  }
  const requestHash = idempotencyKey ? await sha256Hex(canonicalJson(input)) : undefined;
  const ledger = ledgerFor(env, auth.orgId);
  const jobId = crypto.randomUUID();

  // Inputs are stored before admission (the job record names them); a refused or replayed
  // submission removes what it stored.
  let sbom = input.sbom ?? null;
  if (!sbom && input.sbom_id && config.BASE_VEXXY_URL) sbom = await fetchBaseSbom(config, input.sbom_id, bearer);
  const stored: string[] = [];
  if (sbom) {
    stored.push(inputKey(auth.orgId, jobId, "sbom"));
    await putJson(env.ARTIFACTS, stored[stored.length - 1]!, sbom);
  }
  if (input.vulnerabilities) {
    stored.push(inputKey(auth.orgId, jobId, "vulnerabilities"));
    await putJson(env.ARTIFACTS, stored[stored.length - 1]!, input.vulnerabilities);
  }
  const discardInputs = async () => {
    if (stored.length) await env.ARTIFACTS.delete(stored).catch(() => undefined);
  };
  const { environment, ...publicConfig } = cfg;
  const job: AdmittedJob = {
    id: jobId,
    organizationId: auth.orgId,
    userId: auth.userId,
    imageRef: input.image_ref,
    imageDigest: input.image_digest,
    sbomId: input.sbom_id ?? null,
    profile: input.profile ?? null,
    configJson: JSON.stringify(publicConfig),
    environmentJson: JSON.stringify(environment),
    sbomKey: sbom ? inputKey(auth.orgId, jobId, "sbom") : null,
    vulnerabilitiesKey: input.vulnerabilities ? inputKey(auth.orgId, jobId, "vulnerabilities") : null,
    estimatedDurationMinutes: estimateDurationMinutes(cfg),
    createdAt: isoNow(),
  };
  let admitted: AdmitResult;
  try {
    admitted = (await ledger.admit({
      orgId: auth.orgId,
      jobId,
      features: { fuzzing: cfg.enable_fuzzing, profiling: cfg.enable_profiling, code_coverage: cfg.enable_code_coverage },
      testTimeoutSeconds: cfg.test_timeout,
      job,
      ...(idempotencyKey ? { idempotencyKey, requestHash } : {}),
    })) as unknown as AdmitResult;
  } catch (err) {
    await discardInputs();
    throw err;
  }
  if (!admitted.ok || admitted.replay) await discardInputs();
  if (!admitted.ok) {
    if (admitted.refusal.code === "QUOTA_EXCEEDED") {
      await recordMetric(env, db, { kind: "quota_exceeded", orgId: auth.orgId, quotaType: String(admitted.refusal.details.quota_type ?? "unknown") });
    }
    throw refusalError(admitted.refusal);
  }
  if (admitted.replay) {
    const existing = await findJob(env, db, auth.orgId, admitted.jobId);
    if (!existing) throw new ApiError("INTERNAL_ERROR", "The original job of this Idempotency-Key could not be found");
    return { job: existing, replay: true, ...(admitted.quota ? { quota: admitted.quota } : {}) };
  }
  // The ledger records the hold as the job's max_cost (0 on unmetered plans) and decided its verdicts.
  const record: NewJobRecord = { ...job, maxCost: admitted.hold, reachabilityVerdicts: admitted.verdicts ?? false };
  await recordMetric(env, null, { kind: "job_queued", orgId: auth.orgId });
  return { job: { ...record, status: "queued" }, replay: false, ...(admitted.quota ? { quota: admitted.quota } : {}) };
}

/**
 * A job of the caller's organization. A job admitted a moment ago may not be in D1 yet: its ledger
 * still holds it (until its delivery), and answers for it — as a queued job, exactly as D1 will
 * have it — so a client that submits and at once asks for the status finds its job.
 */
export async function findJob(env: Env, db: Database, orgId: string, jobId: string): Promise<JobRow | null> {
  const row = await getJob(db, orgId, jobId);
  if (row) return row;
  const held = (await undeliveredJobs(env, orgId)).find((j) => j.id === jobId);
  // Not held any more: it may have been delivered between the two reads.
  return held ?? (await getJob(db, orgId, jobId));
}

/** The organization's jobs its ledger has admitted but not yet delivered to D1, newest first. */
export async function undeliveredJobs(env: Env, orgId: string): Promise<JobRow[]> {
  const { jobs } = (await ledgerFor(env, orgId).undelivered(orgId)) as unknown as { jobs: NewJobRecord[] };
  return jobs.map(admittedJobRow).reverse();
}

export function submitView(job: SubmittedJob) {
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


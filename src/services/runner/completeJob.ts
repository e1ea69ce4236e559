import type { Database } from "../../db/client.js";
import type { Config } from "../../env.js";
import { getJobById, TERMINAL } from "../../db/jobs.js";
import type { CompleteCallback } from "@vexxy/contract";
import { settlementCost } from "../../lib/cost.js";
import { isoNow } from "../../lib/time.js";
import { putJson, resultsKey } from "../analysis/storage.js";
import { endJob } from "./endJob.js";
import type { CallbackOutcome } from "./recordProgress.js";

/**
 * Completion: documents to R2, the actual cost from what ran (base + features that actually ran + 1 per
 * started 5 minutes of sandbox run time; queue time never billed), settled exactly once.
 */
export async function completeJob(env: Env, db: Database, config: Config, jobId: string, body: CompleteCallback): Promise<CallbackOutcome> {
  const job = await getJobById(db, jobId);
  if (!job) return { kind: "not_found" };
  // Not only the state machine's business: a late duplicate must not overwrite the stored results.
  if (TERMINAL.includes(job.status)) return { kind: "finished", status: job.status };
  const key = resultsKey(job.organizationId, job.id);
  await putJson(env.ARTIFACTS, key, {
    vex_document: body.vex_document,
    execution_profile: body.execution_profile,
    reachability_results: body.reachability_results,
    security_findings: body.security_findings,
  });
  const cost = settlementCost({ outcome: "completed", featuresRan: body.features_ran, sandboxSeconds: body.sandbox_seconds }, job.maxCost);
  const { alerts: _alerts, ...summary } = body.security_findings;
  return endJob(env, db, config, jobId, "complete", {
    resultsKey: key,
    costCredits: cost,
    billingState: "to_settle",
    progressPercent: 100,
    currentPhase: null,
    securitySummaryJson: JSON.stringify(summary),
    featuresRanJson: JSON.stringify(body.features_ran),
    sandboxSeconds: body.sandbox_seconds,
    completedAt: isoNow(),
    environmentJson: null,
    leaseExpiresAt: null,
    startedAt: job.startedAt ?? isoNow(),
  });
}

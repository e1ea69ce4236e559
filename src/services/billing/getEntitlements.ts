/**
 * What the base application needs for one page view (issue #17): the tier and its features, whether
 * the next submission would be admitted and, if not, why — decided by the ledger's own admission
 * rules (`previewAdmission`, the function `submit` and `quote` use), never re-derived here — what is
 * left this period, and where to upgrade.
 */
import { ledgerFor } from "../../ledger/client.js";
import { analysesAllowed, type AdmissionDecision } from "../../ledger/admission.js";
import type { AccountView } from "../../ledger/interface.js";
import { getTier } from "../../lib/tiers.js";
import type { Config } from "../../env.js";
import { resolveConfig, type AnalysisInput } from "../analysis/config.js";

export async function getEntitlements({
  env,
  config,
  orgId,
  submission,
  returnTo,
}: {
  env: Env;
  config: Config;
  orgId: string;
  /** The submission to judge: the same profile and config fields as submit, resolved the same way. */
  submission: Pick<AnalysisInput, "profile" | "config">;
  returnTo: string | null;
}) {
  const cfg = resolveConfig({ image_ref: "", image_digest: "", ...submission });
  const features = { fuzzing: cfg.enable_fuzzing, profiling: cfg.enable_profiling, code_coverage: cfg.enable_code_coverage };
  const { decision, account } = (await ledgerFor(env, orgId).previewAdmission(orgId, features, cfg.test_timeout)) as unknown as {
    decision: AdmissionDecision;
    account: AccountView;
  };
  const tier = getTier(account.tier);
  const upgrade = new URL(`${config.PUBLIC_BASE_URL}/billing/subscribe`);
  if (returnTo) upgrade.searchParams.set("return_to", returnTo);
  return {
    organization_id: orgId,
    tier: account.tier,
    status: account.status,
    features: [...tier.features],
    premium_analysis_enabled: analysesAllowed(account.status),
    can_submit: decision.ok
      ? { allowed: true, reason: null, error: null, details: null, retry_after_seconds: null, max_cost_credits: decision.maxCost }
      : {
          allowed: false,
          reason: decision.refusal.message,
          error: decision.refusal.code,
          details: decision.refusal.details,
          retry_after_seconds: decision.refusal.retryAfterSeconds ?? null,
          max_cost_credits: null,
        },
    remaining: {
      analyses: account.monthly_analysis_limit === null ? null : Math.max(0, account.monthly_analysis_limit - account.current_period_analyses),
      credits: account.monthly_credit_limit === null ? null : Math.max(0, account.available),
    },
    current_period_end: account.current_period_end,
    cancel_at_period_end: account.cancel_at_period_end,
    upgrade_url: upgrade.toString(),
  };
}

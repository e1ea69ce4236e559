import { ledgerFor } from "../../ledger/client.js";
import type { AdmissionDecision } from "../../ledger/admission.js";
import type { AccountView } from "../../ledger/interface.js";
import { costLines, totalCost } from "../../lib/cost.js";
import { resolveConfig, type AnalysisInput } from "./config.js";

/** Line items and the hold a submission would place, from the same cost function settlement uses. */
export async function quoteAnalysis({ env, orgId, input }: { env: Env; orgId: string; input: AnalysisInput }) {
  const cfg = resolveConfig(input);
  const features = { fuzzing: cfg.enable_fuzzing, profiling: cfg.enable_profiling, code_coverage: cfg.enable_code_coverage };
  const costInput = { ...features, seconds: cfg.test_timeout };
  const { decision, account } = (await ledgerFor(env, orgId).previewAdmission(orgId, features, cfg.test_timeout)) as unknown as {
    decision: AdmissionDecision;
    account: AccountView;
  };
  const { environment, ...publicConfig } = cfg;
  return {
    line_items: costLines(costInput),
    max_cost_credits: totalCost(costInput),
    hold_credits: decision.ok ? decision.hold : totalCost(costInput),
    available_credits: account.monthly_credit_limit === null ? null : account.available,
    would_be_admitted: decision.ok,
    refusal: decision.ok ? null : { error: decision.refusal.code, message: decision.refusal.message, details: decision.refusal.details },
    config: { ...publicConfig, environment_variables: Object.keys(environment) },
  };
}

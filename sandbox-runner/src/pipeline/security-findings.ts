/**
 * Turns the ZAP step's outcome into the contract's SecurityFindings. Only a completed, readable scan
 * counts as "fuzzing ran" — a skipped or failed scan is reported as such and never billed.
 */
import type { SecurityFindings } from "@vexxy/contract";
import type { ZapResult } from "../drivers/types.js";
import type { AnalysisSteps } from "./analysis.js";
import { errorMessage } from "./log.js";

const MAX_ALERTS = 1_000;

const empty = { total_alerts: 0, high_risk: 0, medium_risk: 0, low_risk: 0, informational: 0, alerts: [] };

export function notRequested(): SecurityFindings {
  return { status: "skipped", reason: "security fuzzing was not requested", ...empty };
}

export function scanFailed(reason: string): SecurityFindings {
  return { status: "failed", reason, ...empty };
}

export function securityFindings(zap: ZapResult, parse: AnalysisSteps["parseZapReport"]): SecurityFindings {
  if (zap.status === "skipped") return { status: "skipped", reason: zap.reason ?? "the scan was skipped", ...empty };
  if (zap.status === "failed") return scanFailed(zap.reason ?? "the scan failed");
  if (zap.report === undefined) return scanFailed("the scan completed without a report");
  try {
    const s = parse(zap.report);
    const alerts = s.alerts.slice(0, MAX_ALERTS);
    return { status: "completed", ...s, alerts };
  } catch (err) {
    return scanFailed(`unreadable ZAP report: ${errorMessage(err)}`);
  }
}

/**
 * The one cost function: quotes, admission holds and settlement all call it. Spec §2.1: base 10,
 * +5 security fuzzing, +3 profiling, +7 code coverage, +1 per (started) 5 minutes of run time.
 */
const COST = { base: 10, fuzzing: 5, profiling: 3, code_coverage: 7, per_five_minutes: 1 } as const;

export interface CostInput {
  fuzzing: boolean;
  profiling: boolean;
  code_coverage: boolean;
  /** Run time in seconds: the job's test_timeout for a quote/hold, the sandbox's run time for settlement. */
  seconds: number;
}

export interface CostLine {
  item: "base" | "fuzzing" | "profiling" | "code_coverage" | "duration";
  description: string;
  credits: number;
}

export function costLines(input: CostInput): CostLine[] {
  const lines: CostLine[] = [{ item: "base", description: "Base analysis", credits: COST.base }];
  if (input.fuzzing) lines.push({ item: "fuzzing", description: "Security fuzzing (OWASP ZAP)", credits: COST.fuzzing });
  if (input.profiling) lines.push({ item: "profiling", description: "Runtime profiling", credits: COST.profiling });
  if (input.code_coverage) lines.push({ item: "code_coverage", description: "Code coverage", credits: COST.code_coverage });
  const blocks = Math.ceil(Math.max(0, input.seconds) / 300);
  if (blocks > 0) {
    lines.push({ item: "duration", description: `Run time: ${blocks} × 5 minutes started`, credits: blocks * COST.per_five_minutes });
  }
  return lines;
}

export function totalCost(input: CostInput): number {
  return costLines(input).reduce((s, l) => s + l.credits, 0);
}

/** How a job ended, as settlement needs to know it. */
export type SettlementOutcome =
  | { outcome: "completed"; featuresRan: Omit<CostInput, "seconds">; sandboxSeconds: number }
  | { outcome: "failed"; serviceFault: boolean; sandboxRan: boolean; sandboxSeconds: number }
  | { outcome: "cancelled"; sandboxRan: boolean; sandboxSeconds: number };

/**
 * What a finished job costs, the one settlement policy: a completed job pays base + the features
 * that actually ran + run time; a job whose sandbox never ran, or that failed by the service's
 * fault, pays nothing; a workload failure or a cancel after the sandbox ran pays base + run time.
 * Never more than the hold admission placed (`maxCost`; 0 on unmetered plans means no hold).
 */
export function settlementCost(o: SettlementOutcome, maxCost: number): number {
  let cost: number;
  if (o.outcome === "completed") cost = totalCost({ ...o.featuresRan, seconds: o.sandboxSeconds });
  else if (!o.sandboxRan || (o.outcome === "failed" && o.serviceFault)) cost = 0;
  else cost = totalCost({ fuzzing: false, profiling: false, code_coverage: false, seconds: o.sandboxSeconds });
  return clampToHold(cost, maxCost);
}

/** A cost never exceeds the hold placed for it; a hold of 0 (unmetered plan) clamps nothing. */
export function clampToHold(cost: number, hold: number): number {
  const c = Math.max(0, Math.floor(cost));
  return hold > 0 ? Math.min(c, hold) : c;
}

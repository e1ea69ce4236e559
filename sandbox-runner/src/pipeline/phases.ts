/**
 * Which phases a job will go through and what percentage each one starts at. Weights are rough
 * shares of a typical run's wall time, so the percentage the user sees moves like the job does; phases
 * the job will not run (the ZAP scan without fuzzing) are left out of the plan rather than skipped
 * over, so the bar never jumps.
 */
import { JOB_PHASES, type JobConfig, type JobPhase } from "@vexxy/contract";

const WEIGHTS: Record<JobPhase, number> = {
  pulling_image: 10,
  starting_sandbox: 5,
  waiting_for_health: 10,
  running_test_script: 30,
  security_scan: 25,
  collecting_evidence: 5,
  computing_reachability: 10,
  writing_vex: 5,
};

/** The Worker reports 100 itself when the complete callback lands; phases stay below it. */
const CEILING = 95;

export interface PhasePlan {
  readonly phases: readonly JobPhase[];
  /** Percentage at which `phase` begins. */
  start(phase: JobPhase): number;
  /** Percentage at which the phase after `phase` begins (CEILING for the last one). */
  end(phase: JobPhase): number;
}

export function planPhases(config: Pick<JobConfig, "enable_fuzzing">): PhasePlan {
  const phases = JOB_PHASES.filter((p) => p !== "security_scan" || config.enable_fuzzing);
  const total = phases.reduce((sum, p) => sum + WEIGHTS[p], 0);
  const starts = new Map<JobPhase, number>();
  let acc = 0;
  for (const p of phases) {
    starts.set(p, Math.floor((acc / total) * CEILING));
    acc += WEIGHTS[p];
  }
  const startOf = (p: JobPhase) => {
    const s = starts.get(p);
    if (s === undefined) throw new Error(`phase ${p} is not part of this job's plan`);
    return s;
  };
  return {
    phases,
    start: startOf,
    end(p) {
      const i = phases.indexOf(p);
      const next = phases[i + 1];
      return next ? startOf(next) : CEILING;
    },
  };
}

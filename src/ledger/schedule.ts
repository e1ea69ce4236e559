/**
 * When the ledger object's one alarm should fire, pure: now while anything is undelivered (unless
 * a failed delivery is backing off), else the earliest hold deadline, dispatch check or recovery tick,
 * or the period's end.
 */

/** A failed delivery is retried after 1 s, 2 s, 4 s … at most 5 minutes. */
export function retryDelayMs(failures: number): number {
  return Math.min(300_000, 1_000 * 2 ** Math.max(0, failures - 1));
}

export function nextWake(s: {
  now: number;
  undelivered: boolean;
  failures: number;
  /** The earliest of a pending hold's deadline and a dispatch check. */
  deadline: number | null;
  periodEnd: number | null;
  /** While jobs are in flight: when the next recovery tick is due (real time). */
  recoveryDue?: number | null;
}): number | null {
  const candidates: number[] = [];
  if (s.recoveryDue !== undefined && s.recoveryDue !== null) candidates.push(s.recoveryDue);
  if (s.undelivered && s.failures === 0) candidates.push(s.now);
  if (s.deadline !== null) candidates.push(s.deadline);
  if (s.periodEnd !== null) candidates.push(s.periodEnd);
  return candidates.length ? Math.min(...candidates) : null;
}

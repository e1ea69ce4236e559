/**
 * The organization's recovery tick: while the ledger holds credits for jobs in flight, it asks for
 * the organization's job recovery (services/sweep.ts recoverOrganization: silent runners' leases,
 * lost dispatches, half-done billing) every RECOVERY_TICK_MS, through the dispatch queue. A timer of
 * the object's own (an alarm), so recovery needs no request and no cron, in production and under
 * `npm start` alike; a lost message is simply sent again at the next tick.
 */
import type { RecoveryMessage } from "../queues/messages.js";
import type { LedgerStore } from "./store.js";

export const RECOVERY_TICK_MS = 20_000;
const TIMER = "recovery";

/**
 * Run from the object's alarm: with jobs in flight (pending holds), sends the recovery request once
 * the tick is due and sets the next; without, clears the timer. The due time is stored, since an idle
 * object's instance is evicted between alarms. Returns when the next tick is due (null: none).
 */
export async function recoveryTick(store: LedgerStore, env: Pick<Env, "ANALYSIS_QUEUE">, orgId: string, now: number, transaction: (fn: () => void) => void): Promise<number | null> {
  const due = store.timerDue(TIMER);
  if (store.earliestHoldDeadline() === null) {
    if (due !== null) transaction(() => store.setTimer(TIMER, null));
    return null;
  }
  if (due !== null && now < due) return due;
  if (due !== null) await env.ANALYSIS_QUEUE.send({ recover_organization: orgId } satisfies RecoveryMessage);
  transaction(() => store.setTimer(TIMER, now + RECOVERY_TICK_MS));
  return now + RECOVERY_TICK_MS;
}

/** When the next recovery tick is due, for the scheduler (null: no jobs in flight, i.e. no pending hold). */
export function nextRecoveryTick(store: LedgerStore, jobsInFlight: boolean, now: number): number | null {
  return jobsInFlight ? (store.timerDue(TIMER) ?? now) : null;
}

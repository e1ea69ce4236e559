/**
 * The organization's recovery tick: while the ledger holds credits for jobs in flight, it asks for
 * the organization's job recovery (services/sweep.ts recoverOrganization: silent runners' leases,
 * lost dispatches, half-done billing) every RECOVERY_TICK_MS, through the dispatch queue. A timer of
 * the object's own (an alarm), so recovery needs no request and no cron, in production and under
 * `npm start` alike; a lost message is simply sent again at the next tick.
 */
import type { RecoveryMessage } from "../queues/messages.js";

export const RECOVERY_TICK_MS = 20_000;

export async function requestRecovery(env: Pick<Env, "ANALYSIS_QUEUE">, orgId: string): Promise<void> {
  await env.ANALYSIS_QUEUE.send({ recover_organization: orgId } satisfies RecoveryMessage);
}

/**
 * Hands admitted jobs to D1 and the dispatch queue, batched across organizations.
 *
 * Admission itself is one call to the organization's ledger object, which records the job in the
 * same transaction as its hold (the durable record). Writing the D1 row and queueing the dispatch
 * from there would cost one D1 write and one queue send per organization per round; with many
 * organizations each admitting a little, that is two more round trips per admission. So the Worker
 * isolate collects admitted jobs of every organization and writes them together: the first job
 * after a quiet spell goes at once, and while jobs keep coming a round starts at most every
 * HANDOFF_WINDOW_MS with everything collected meanwhile (one D1 statement + one sendBatch).
 *
 * Best effort by design: the round runs in the waitUntil of the request that started it, and an
 * isolate can die with jobs collected. The ledger's outbox confirms every job JOB_CONFIRM_DELAY_MS
 * later and writes and queues whatever D1 still lacks, so nothing admitted is lost.
 */
import { insertNewJobs, type NewJobRecord } from "../db/jobs.js";
import { log } from "../lib/log.js";
import type { DispatchMessage } from "./messages.js";

/**
 * Under load, at most one round per this window. Each round has a fixed cost on the Worker's thread
 * (a D1 call, a queue send, the consumer's invocation and its D1 calls), so fewer, larger rounds
 * leave more of it to admissions: on local workerd at ~600 admissions/s, 25 ms rounds carried ~6-15
 * jobs each, 100 ms rounds ~60 (see README, Performance). A quiet service still hands its first job
 * over at once; only jobs arriving during a busy spell wait, at most this long.
 */
export const HANDOFF_WINDOW_MS = 100;
/** One sendBatch takes at most 100 messages. */
const ROUND_MAX = 100;
/**
 * A request's waitUntil is cut off 30 s after its response, so a loop hands over after LOOP_MS: it
 * marks itself done (the next hand-off starts a fresh loop in its own request), sends what it holds
 * and ends. A loop silent for STALE_MS is taken for dead (its context was cancelled) and replaced.
 */
const LOOP_MS = 5_000;
const STALE_MS = 15_000;

const collected: NewJobRecord[] = [];
let looping = false;
let loopId = 0;
let loopBeatAt = 0;
let lastRoundAt = 0;
let paused = false;

export function handOffJob(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, job: NewJobRecord): void {
  collected.push(job);
  if (paused || (looping && Date.now() - loopBeatAt < STALE_MS)) return;
  const id = ++loopId;
  looping = true;
  loopBeatAt = Date.now();
  ctx.waitUntil(
    drain(env, id).finally(() => {
      if (loopId === id) looping = false;
    }),
  );
}

async function drain(env: Env, id: number): Promise<void> {
  const started = Date.now();
  while (collected.length && !paused) {
    const handOver = Date.now() - started >= LOOP_MS;
    if (handOver && loopId === id) looping = false;
    loopBeatAt = Date.now();
    const wait = handOver ? 0 : Math.max(0, lastRoundAt + HANDOFF_WINDOW_MS - Date.now());
    if (wait) await scheduler.wait(wait);
    lastRoundAt = Date.now();
    const jobs = collected.splice(0, ROUND_MAX);
    try {
      await insertNewJobs(env.DB, jobs);
      await env.ANALYSIS_QUEUE.sendBatch(jobs.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } satisfies DispatchMessage })));
    } catch (err) {
      log("warn", "job hand-off failed; the ledger outbox will write and queue these jobs", { jobs: jobs.length, error: String(err) });
    }
    if (handOver) return;
  }
}

/**
 * Test-only: collect but do not write (paused), or forget what was collected and resume. The
 * Worker suite uses it to observe a job between admission and its D1 row.
 */
export function pauseHandOffForTesting(pause: boolean): void {
  paused = pause;
  if (!pause) collected.length = 0;
}

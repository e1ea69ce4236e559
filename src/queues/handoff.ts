/**
 * Hands admitted jobs to D1 and the dispatch queue, batched across organizations, and mirrors their
 * admissions with them.
 *
 * Admission itself is one call to the organization's ledger object, which records the job in the
 * same transaction as its hold (the durable record). Writing the D1 row, the hold_placed entry and
 * the dispatch from the object would cost D1 writes and a queue send per organization; with many
 * organizations each admitting a little, those fixed costs multiply. So the Worker isolate collects
 * admitted jobs of every organization and writes them together: the first job after a quiet spell
 * goes at once, and while jobs keep coming a round starts at most every HANDOFF_WINDOW_MS with
 * everything collected meanwhile (one D1 batch + one sendBatch).
 *
 * Then the ledger is told, so that its outbox forgets the jobs and never drains them itself: the
 * confirmation rides on the organization's next admission from this isolate (takeConfirmations), or,
 * once the organization has gone quiet for CONFIRM_AFTER_MS, is sent on its own
 * (OrgLedger.confirmHandOff), which answers with the account; those accounts are written as the
 * subscription snapshots, one D1 batch for every organization that went quiet. A busy
 * organization's ledger thus never talks to D1, and the subscription rows in D1 follow within about
 * a second of each busy spell.
 *
 * Best effort by design: the loop runs in the waitUntil of the request that started it, and an
 * isolate can die with jobs collected or confirmations unsent. The ledger's outbox confirms every
 * job JOB_CONFIRM_DELAY_MS after admission unless told, writes and queues whatever D1 still lacks,
 * and mirrors the entries, so nothing admitted is lost.
 */
import { writeHandOff, writeSnapshots } from "../db/mirror.js";
import type { NewJobRecord } from "../db/jobs.js";
import { ledgerFor } from "../ledger/client.js";
import type { AccountView, LedgerEntry } from "../ledger/interface.js";
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
/**
 * An organization without a round for this long has gone quiet: its snapshot is written and what
 * no admission has taken along is confirmed on its own. Long enough that a busy organization's
 * confirmations nearly always ride along; far inside the ledger's JOB_CONFIRM_DELAY_MS, so a
 * quiet one's outbox is emptied before it would drain.
 */
export const CONFIRM_AFTER_MS = 1_000;
/** One sendBatch takes at most 100 messages. */
const ROUND_MAX = 100;
/** Organizations settled up with at once (one ledger call each, in parallel, and one snapshot batch). */
const SETTLE_MAX = 100;
/**
 * A request's waitUntil is cut off 30 s after its response, so a loop hands over after LOOP_MS: it
 * stops taking jobs (the next one starts a fresh loop in its own request), sends what it holds and,
 * unless a successor has started, the confirmations it owes as they come due (CONFIRM_AFTER_MS at
 * most), then ends. A loop silent for STALE_MS is taken for dead (its context was cancelled) and
 * replaced.
 */
const LOOP_MS = 5_000;
const STALE_MS = 15_000;

/** An admitted job and its hold_placed entry, as the ledger answered the admission. */
export interface HandOff {
  job: NewJobRecord;
  entry: LedgerEntry;
}

const collected: HandOff[] = [];
/**
 * By organization: what this isolate's rounds wrote that its ledger has not been told (the seqs of
 * the jobs' hold_placed entries, which key the ledger's outbox), and when its last round was.
 */
const owed = new Map<string, { entrySeqs: number[]; lastRoundAt: number }>();
let looping = false;
let loopId = 0;
let loopBeatAt = 0;
let lastRoundAt = 0;
let paused = false;

export function handOffJob(env: Env, ctx: Pick<ExecutionContext, "waitUntil">, item: HandOff): void {
  collected.push(item);
  if (paused || (looping && Date.now() - loopBeatAt < STALE_MS)) return;
  const id = ++loopId;
  looping = true;
  loopBeatAt = Date.now();
  ctx.waitUntil(
    run(env, id).finally(() => {
      if (loopId === id) looping = false;
    }),
  );
}

/**
 * Confirmations this isolate owes the organization's ledger, for its next admission to carry
 * (AdmitRequest.confirmed). Taken once: the caller passes them on.
 */
export function takeConfirmations(orgId: string): number[] | undefined {
  const o = owed.get(orgId);
  if (!o?.entrySeqs.length) return undefined;
  const entrySeqs = o.entrySeqs;
  o.entrySeqs = [];
  return entrySeqs;
}

/** Gives back confirmations an admission took but could not deliver (its call to the ledger failed). */
export function returnConfirmations(orgId: string, entrySeqs: number[] | undefined): void {
  const o = owed.get(orgId);
  if (o && entrySeqs?.length) o.entrySeqs.unshift(...entrySeqs);
}

async function run(env: Env, id: number): Promise<void> {
  const started = Date.now();
  // A successor (started by a job that arrived while this loop was not taking jobs, or replacing a
  // loop taken for dead) takes over everything, confirmations included.
  while (!paused && loopId === id) {
    loopBeatAt = Date.now();
    if (collected.length) {
      if (Date.now() - started >= LOOP_MS) looping = false;
      const wait = looping ? Math.max(0, lastRoundAt + HANDOFF_WINDOW_MS - Date.now()) : 0;
      if (wait) await scheduler.wait(wait);
      await round(env);
      continue;
    }
    // Nothing to send. A sleeping loop cannot be woken from another request, so the next job starts
    // a successor in its own request while this one settles up with the organizations that go quiet.
    if (loopId === id) looping = false;
    let oldest = Infinity;
    for (const o of owed.values()) oldest = Math.min(oldest, o.lastRoundAt);
    if (oldest === Infinity) return;
    const wait = oldest + CONFIRM_AFTER_MS - Date.now();
    if (wait > 0) await scheduler.wait(wait);
    else await settleUp(env);
  }
}

/** One round: up to ROUND_MAX jobs with their entries in one D1 batch, then one sendBatch. */
async function round(env: Env): Promise<void> {
  lastRoundAt = Date.now();
  const items = collected.splice(0, ROUND_MAX);
  try {
    await writeHandOff(env.DB, items);
    await env.ANALYSIS_QUEUE.sendBatch(items.map(({ job }) => ({ body: { job_id: job.id, organization_id: job.organizationId } satisfies DispatchMessage })));
  } catch (err) {
    log("warn", "job hand-off failed; the ledger outbox will write and queue these jobs", { jobs: items.length, error: String(err) });
    return;
  }
  const now = Date.now();
  for (const { job, entry } of items) {
    const o = owed.get(job.organizationId) ?? owed.set(job.organizationId, { entrySeqs: [], lastRoundAt: now }).get(job.organizationId)!;
    o.entrySeqs.push(entry.seq);
    o.lastRoundAt = now;
  }
}

/**
 * Every organization without a round for CONFIRM_AFTER_MS: its ledger told what is still
 * unconfirmed (possibly nothing: its admissions took all along), answering with its account, and
 * those accounts written to D1 as snapshots in one batch.
 */
async function settleUp(env: Env): Promise<void> {
  // Those about to be quiet too come along (within one round window), so that one batch serves them.
  const cutoff = Date.now() - CONFIRM_AFTER_MS + HANDOFF_WINDOW_MS;
  const quiet = [...owed].filter(([, o]) => o.lastRoundAt <= cutoff).slice(0, SETTLE_MAX);
  for (const [org] of quiet) owed.delete(org);
  const accounts = await Promise.all(
    quiet.map(([org, o]) =>
      (ledgerFor(env, org).confirmHandOff(org, o.entrySeqs) as Promise<AccountView | null>)
        .catch((err: unknown) => {
          log("warn", "hand-off confirmation failed; the ledger outbox confirms these jobs itself", { organization_id: org, jobs: o.entrySeqs.length, error: String(err) });
          return null;
        }),
    ),
  );
  try {
    await writeSnapshots(env.DB, accounts.filter((a): a is AccountView => a !== null));
  } catch (err) {
    // The snapshot is a copy for the catalog: the ledger's next drain of its own writes a newer one.
    log("warn", "account snapshots after a hand-off failed", { organizations: quiet.length, error: String(err) });
  }
}

/**
 * Test-only: collect but do not write (paused), or forget what was collected and owed and resume.
 * The Worker suite uses it to observe a job between admission and its D1 row.
 */
export function pauseHandOffForTesting(pause: boolean): void {
  paused = pause;
  if (!pause) {
    collected.length = 0;
    owed.clear();
  }
}

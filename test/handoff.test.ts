/**
 * The Worker's job hand-off: batched rounds across organizations that write jobs with their
 * admissions' entries and account snapshots, confirmations back to each ledger, failures left to
 * the ledger's outbox.
 */
import { afterEach, describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { CONFIRM_AFTER_MS, handOffJob, pauseHandOffForTesting, takeConfirmations, type HandOff } from "../src/queues/handoff.js";
import { insertNewJobs, type NewJobRecord } from "../src/db/jobs.js";
import { writeSnapshots } from "../src/db/mirror.js";
import type { AccountView, LedgerEntry } from "../src/ledger/interface.js";
import { JOB_CONFIRM_DELAY_MS } from "../src/ledger/durable_object.js";
import { call, json } from "./support/http.js";
import { newOrg, submission } from "./support/orgs.js";

/** The test's real D1, with every batch the hand-off sends recorded (or every call failing). */
function fakeEnv(opts: { failD1?: boolean } = {}) {
  const batches: { sql: string; params: unknown[] }[][] = [];
  const prepared = new Map<D1PreparedStatement, { sql: string; params: unknown[] }>();
  const sent: unknown[][] = [];
  const DB = {
    prepare: (sql: string) => {
      if (opts.failD1) throw new Error("D1 unavailable");
      const stmt = env.DB.prepare(sql);
      return {
        bind: (...params: unknown[]) => {
          const bound = stmt.bind(...params);
          prepared.set(bound, { sql, params });
          return bound;
        },
      };
    },
    batch: (stmts: D1PreparedStatement[]) => {
      batches.push(stmts.map((s) => prepared.get(s)!));
      return env.DB.batch(stmts);
    },
  };
  const testEnv = { ...env, DB, ANALYSIS_QUEUE: { sendBatch: async (msgs: unknown[]) => void sent.push(msgs) } } as unknown as Env;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  return { env: testEnv, ctx, batches, sent, settle: async () => { while (pending.length) await pending.shift(); } };
}

async function orgRow(): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await env.DB.prepare("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?)").bind(id, "Hand-off test", `org-${id}`, now, now).run();
  return id;
}

const job = (org: string): NewJobRecord => ({
  id: crypto.randomUUID(),
  organizationId: org,
  userId: crypto.randomUUID(),
  imageRef: "nginx:1.25",
  imageDigest: "sha256:" + "ab".repeat(32),
  sbomId: null,
  profile: null,
  configJson: "{}",
  environmentJson: "{}",
  sbomKey: null,
  vulnerabilitiesKey: null,
  maxCost: 11,
  estimatedDurationMinutes: 4,
  reachabilityVerdicts: true,
  createdAt: new Date().toISOString(),
});

/** An admission as the ledger reports it: the job and its hold_placed entry (the organization's n-th). */
function admitted(org: string, n: number): HandOff {
  const j = job(org);
  const entry: LedgerEntry = {
    id: crypto.randomUUID(), seq: n, type: "hold_placed", amount: 0, grant_amount: 0, purchased_amount: 0, held_amount: 11,
    balance_after: 1000, held_after: 11 * n, job_id: j.id, stripe_event_id: null, stripe_object_id: null,
    description: `Held 11 credits for analysis job ${j.id} (its maximum cost)`, created_at: j.createdAt,
  };
  return { job: j, entry };
}

const subscriptionIds = new Map<string, string>();
/** An organization's account as its ledger reports it, at version n. */
function accountAt(org: string, n: number): AccountView {
  const subscription = subscriptionIds.get(org) ?? subscriptionIds.set(org, crypto.randomUUID()).get(org)!;
  return {
    organization_id: org, subscription_id: subscription, tier: "professional", status: "active", monthly_analysis_limit: 200,
    monthly_credit_limit: 1000, current_period_analyses: n, current_period_credits_used: 0, current_period_start: "2026-12-01T00:00:00.000Z",
    current_period_end: "2027-01-01T00:00:00.000Z", trial_end: null, cancel_at_period_end: false, stripe_subscription_id: null,
    created_at: "2026-12-01T00:00:00.000Z", balance: 1000 - n, grant_remaining: 1000 - n, purchased_balance: 0, held: 11 * n, available: 1000 - 12 * n, version: n,
  };
}

const row = (sql: string, ...params: unknown[]) => env.DB.prepare(sql).bind(...params).first<Record<string, unknown>>();

describe("job hand-off", () => {
  afterEach(() => pauseHandOffForTesting(false));

  it("sends the first job at once and the jobs of several organizations admitted meanwhile together", async () => {
    const f = fakeEnv();
    const first = admitted(await orgRow(), 1);
    handOffJob(f.env, f.ctx, first);
    const next = await Promise.all([orgRow(), orgRow(), orgRow()]).then((orgs) => orgs.map((o) => admitted(o, 1)));
    for (const a of next) handOffJob(f.env, f.ctx, a); // while the first round's writes are in flight
    await f.settle();
    const msgs = (items: HandOff[]) => items.map(({ job: j }) => ({ body: { job_id: j.id, organization_id: j.organizationId } }));
    expect(f.sent).toEqual([msgs([first]), msgs(next)]);
    // One D1 batch a round, whatever its size: the jobs and their entries, each statement's rows as
    // one JSON parameter. (These organizations have no ledger, so no snapshots follow.)
    const shape = (batch: { sql: string; params: unknown[] }[]) => batch.map((s) => [s.sql.split(/\s+/).slice(0, 3).join(" "), s.params.length]);
    expect(f.batches.map(shape)).toEqual([
      [["INSERT OR IGNORE", 1], ["INSERT INTO billing_events", 1]],
      [["INSERT OR IGNORE", 1], ["INSERT INTO billing_events", 1]],
    ]);
    // …and land in D1 column for column.
    for (const { job: j, entry } of [first, ...next]) {
      expect(await row("SELECT * FROM analysis_jobs WHERE id = ?", j.id)).toMatchObject({
        organization_id: j.organizationId, user_id: j.userId, status: "queued", image_ref: j.imageRef, image_digest: j.imageDigest,
        sbom_id: null, profile: null, config_json: "{}", environment_json: "{}", sbom_key: null, vulnerabilities_key: null,
        max_cost: 11, estimated_duration_minutes: 4, reachability_verdicts: 1, created_at: j.createdAt, updated_at: j.createdAt,
      });
      expect(await row("SELECT * FROM billing_events WHERE analysis_job_id = ?", j.id)).toMatchObject({
        id: entry.id, organization_id: j.organizationId, event_type: "hold_placed", credits_amount: 0, held_amount: 11,
        balance_after: 1000, ledger_seq: 1, description: entry.description, created_at: j.createdAt,
      });
    }
  });

  it("keeps each organization's newest snapshot, in a batch and across batches", async () => {
    const [org, other] = [await orgRow(), await orgRow()];
    await writeSnapshots(env.DB, [accountAt(org, 1), accountAt(org, 3), accountAt(other, 5), accountAt(org, 2)]);
    const snapshot = (id: string) => row("SELECT s.*, o.credit_balance FROM subscriptions s JOIN organizations o ON o.id = s.organization_id WHERE s.organization_id = ?", id);
    expect(await snapshot(org)).toMatchObject({
      id: subscriptionIds.get(org), tier: "professional", status: "active", monthly_analysis_limit: 200, monthly_credit_limit: 1000,
      current_period_analyses: 3, current_period_start: "2026-12-01T00:00:00.000Z", cancel_at_period_end: 0, ledger_version: 3, credit_balance: 997,
    });
    expect(await snapshot(other)).toMatchObject({ ledger_version: 5, current_period_analyses: 5, credit_balance: 995 });
    await writeSnapshots(env.DB, [accountAt(org, 2)]); // an older snapshot arriving later changes neither row nor balance
    expect(await snapshot(org)).toMatchObject({ ledger_version: 3, current_period_analyses: 3, credit_balance: 997 });
    await writeSnapshots(env.DB, [accountAt(org, 4)]);
    expect(await snapshot(org)).toMatchObject({ ledger_version: 4, current_period_analyses: 4, credit_balance: 996 });
  });

  it("writes only what D1 lacks, and says which it wrote (the ledger's confirm drain queues exactly those)", async () => {
    const org = await orgRow();
    const [a, b] = [job(org), job(org)];
    expect([...(await insertNewJobs(env.DB, [a!]))]).toEqual([a!.id]);
    await env.DB.prepare("UPDATE analysis_jobs SET status = 'running' WHERE id = ?").bind(a!.id).run();
    expect([...(await insertNewJobs(env.DB, [a!, b!]))]).toEqual([b!.id]);
    // The job that had moved on was not reset.
    expect(await env.DB.prepare("SELECT status FROM analysis_jobs WHERE id = ?").bind(a!.id).first("status")).toBe("running");
    expect(await insertNewJobs(env.DB, [])).toEqual(new Set());
  });

  it("never throws into the request when D1 fails, and owes no confirmation (the ledger's outbox writes those jobs later)", async () => {
    const f = fakeEnv({ failD1: true });
    const lost = admitted(await orgRow(), 1);
    handOffJob(f.env, f.ctx, lost);
    await expect(f.settle()).resolves.toBeUndefined();
    expect(f.sent).toHaveLength(0);
    expect(takeConfirmations(lost.job.organizationId)).toBeUndefined();
    const ok = fakeEnv();
    handOffJob(ok.env, ok.ctx, admitted(await orgRow(), 1));
    await ok.settle();
    expect(ok.sent).toHaveLength(1);
  });
});

describe("confirmations: a busy organization's ledger never drains on its own", () => {
  afterEach(() => pauseHandOffForTesting(false));
  /** The ledger object's own bookkeeping, read inside it. */
  const ledgerState = (org: Awaited<ReturnType<typeof newOrg>>) =>
    runInDurableObject(org.ledger, async (_instance, state) => ({
      outbox: state.storage.sql.exec<{ job_id: string }>("SELECT job_id FROM job_outbox ORDER BY seq").toArray().map((r) => r.job_id),
      outboxSeqs: state.storage.sql.exec<{ seq: number }>("SELECT seq FROM job_outbox ORDER BY seq").toArray().map((r) => r.seq),
      entries: state.storage.sql.exec<{ job_id: string; mirrored: number }>("SELECT job_id, mirrored FROM entries WHERE type = 'hold_placed' ORDER BY seq").toArray(),
      drains: state.storage.sql.exec<{ mirror_at: number; jobs_at: number }>("SELECT mirror_at, jobs_at FROM drains").one(),
      alarm: await state.storage.getAlarm(),
    }));
  const inD1 = async (jobId: string) => !!(await row("SELECT id FROM analysis_jobs WHERE id = ?", jobId));
  async function until(cond: () => Promise<boolean>, ms: number) {
    const end = Date.now() + ms;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error("condition not met in time");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it("takes confirmations with an admission or on their own; a job leaves the outbox once, its entry is then mirrored", async () => {
    const org = await newOrg({ tier: "starter" });
    pauseHandOffForTesting(true); // the ledger alone: confirmations are given by hand
    await org.ledger.flushOutbox(org.orgId); // the seed's entries
    const record = (id: string) => ({ ...job(org.orgId), id });
    const admit = async (id: string, confirmed?: number[]) =>
      ((await org.ledger.admit({ orgId: org.orgId, jobId: id, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 60, job: record(id), ...(confirmed ? { confirmed } : {}) })) as { holdEntry?: LedgerEntry })
        .holdEntry!;
    const [a, b, c] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const first = await admit(a);
    expect(first).toMatchObject({ type: "hold_placed", job_id: a, held_amount: 11, amount: 0 });
    let s = await ledgerState(org);
    expect(s.outbox).toEqual([a]);
    expect(s.outboxSeqs).toEqual([first.seq]); // the outbox row is keyed by its entry's seq
    const second = await admit(b, [first.seq]);
    s = await ledgerState(org);
    expect(s.outbox).toEqual([b]);
    // Carried by the hand-off, so never the mirror drain's: no drain is scheduled for them.
    expect(s.entries).toEqual([{ job_id: a, mirrored: 1 }, { job_id: b, mirrored: 1 }]);
    expect(s.alarm! - Date.now()).toBeLessThanOrEqual(JOB_CONFIRM_DELAY_MS); // the outbox's backstop is armed
    const third = await admit(c);
    const acct = (await org.ledger.confirmHandOff(org.orgId, [second.seq, first.seq, third.seq])) as AccountView; // a again: a no-op
    expect(acct).toMatchObject({ organization_id: org.orgId, current_period_analyses: 3, held: 33 });
    expect(await org.ledger.confirmHandOff(crypto.randomUUID(), [third.seq])).toBeNull(); // another organization's object: ignored
    s = await ledgerState(org);
    expect(s.outbox).toEqual([]);
    expect(s.entries.map((e) => e.mirrored)).toEqual([1, 1, 1]);
    // Nothing left to confirm: the alarm is back at the next hold deadline (test_timeout + 2 h).
    expect(s.alarm! - Date.now()).toBeGreaterThan(JOB_CONFIRM_DELAY_MS + 3600_000);
  });

  it("ends a busy spell with every job, entry and snapshot in D1 and no drain of the ledger's own", async () => {
    const org = await newOrg({ tier: "starter" });
    await org.ledger.flushOutbox(org.orgId); // the seed's entries: the ledger's own drain, done now
    const before = (await ledgerState(org)).drains;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await json(await call("/api/v1/analysis/submit", { token: org.token, body: submission() }))).job_id);
    expect((await ledgerState(org)).outbox.length).toBeGreaterThan(0);
    await until(async () => (await ledgerState(org)).outbox.length === 0, CONFIRM_AFTER_MS + 5_000);
    const s = await ledgerState(org);
    expect(s.entries).toEqual(ids.map((job_id) => ({ job_id, mirrored: 1 })));
    expect(s.drains).toEqual(before); // neither the mirror nor the job confirm drained
    expect(s.alarm! - Date.now()).toBeGreaterThan(JOB_CONFIRM_DELAY_MS + 3600_000);
    for (const id of ids) {
      expect(await inD1(id), id).toBe(true);
      expect(await row("SELECT event_type, held_amount FROM billing_events WHERE analysis_job_id = ?", id)).toEqual({ event_type: "hold_placed", held_amount: 11 });
    }
    const acct = await org.ledger.getAccount(org.orgId);
    expect(await row("SELECT current_period_analyses, ledger_version FROM subscriptions WHERE organization_id = ?", org.orgId)).toEqual({
      current_period_analyses: 6,
      ledger_version: acct.version,
    });
  });

  it("shows a pending admission in the history at once (the read mirrors what the hand-off has not written yet)", async () => {
    const org = await newOrg({ tier: "starter" });
    pauseHandOffForTesting(true);
    const { job_id } = await json(await call("/api/v1/analysis/submit", { token: org.token, body: submission() }));
    expect(await row("SELECT id FROM billing_events WHERE analysis_job_id = ?", job_id)).toBeNull();
    const events = await json(await call("/api/v1/billing/events", { token: org.token }));
    expect(events[0]).toMatchObject({ event_type: "hold_placed", analysis_job_id: job_id });
  });
});

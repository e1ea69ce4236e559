/**
 * One path for a submission: the organization's ledger object records the job with its hold and
 * delivers both itself — to D1 and the dispatch queue — right after the commit, retrying by alarm
 * with backoff until it succeeds. Until then, readers get the job and entry from the object.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { call, json } from "./support/http.js";
import { alarmOf, breakDelivery, recordQueueSends, runAlarm } from "./support/ledger.js";
import { newOrg, submission } from "./support/orgs.js";
import { OrgLedger } from "../src/ledger/durable_object.js";

const jobCount = async (orgId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM analysis_jobs WHERE organization_id = ?").bind(orgId).first<{ n: number }>())!.n;
const eventCount = async (orgId: string, type: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM billing_events WHERE organization_id = ? AND event_type = ?").bind(orgId, type).first<{ n: number }>())!.n;

async function submitN(token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call("/api/v1/analysis/submit", { token, body: submission() });
    expect(res.status).toBe(201);
    ids.push((await json(res)).job_id);
  }
  return ids;
}

async function until(cond: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("the ledger delivers its own outbox", () => {
  it("right after admission, with no request: each job in D1 and queued exactly once, with its entry", async () => {
    const org = await newOrg({ tier: "starter" });
    const sends = await recordQueueSends(org.ledger);
    const ids = await submitN(org.token, 3);
    await until(async () => (await jobCount(org.orgId)) === 3 && (await org.ledger.undelivered(org.orgId)).entries.length === 0);
    expect(await eventCount(org.orgId, "hold_placed")).toBe(3);
    const queued = sends.bodies.flatMap((b) => (b as { job_id?: string }).job_id ?? []).sort();
    expect(queued).toEqual([...ids].sort());
    // The D1 subscription row follows the account.
    const sub = await env.DB.prepare("SELECT current_period_analyses FROM subscriptions WHERE organization_id = ?").bind(org.orgId).first<{ current_period_analyses: number }>();
    expect(sub!.current_period_analyses).toBe(3);
  });

  it("retries a failed delivery by alarm with backoff, then delivers everything once", async () => {
    const org = await newOrg({ tier: "starter" });
    const restore = await breakDelivery(org.ledger);
    const ids = await submitN(org.token, 2);
    await until(async () => {
      const at = await alarmOf(org.ledger);
      return at !== null && at > Date.now() + 200; // the first attempt failed: the next is backed off
    });
    expect(await jobCount(org.orgId)).toBe(0);
    expect((await org.ledger.undelivered(org.orgId)).jobs.map((j) => j.id)).toEqual(ids);
    await restore();
    const sends = await recordQueueSends(org.ledger);
    await runAlarm(org.ledger);
    expect(await jobCount(org.orgId)).toBe(2);
    expect(sends.bodies).toHaveLength(2);
    expect(await org.ledger.undelivered(org.orgId)).toEqual({ jobs: [], entries: [] });
    // A repeated delivery writes and queues nothing more.
    expect(await org.ledger.deliver(org.orgId)).toBe(0);
    expect(sends.bodies).toHaveLength(2);
  });

  it("a queue that refuses the send: the round is retried whole and D1 is written once", async () => {
    const org = await newOrg({ tier: "starter" });
    const restore = await breakDelivery(org.ledger, { queue: true });
    const [id] = await submitN(org.token, 1);
    await until(async () => (await jobCount(org.orgId)) === 1); // D1 written, the send failed
    expect((await org.ledger.undelivered(org.orgId)).jobs.map((j) => j.id)).toEqual([id]);
    await restore();
    const sends = await recordQueueSends(org.ledger);
    expect(await org.ledger.deliver(org.orgId)).toBeGreaterThan(0);
    expect(sends.bodies).toEqual([{ job_id: id, organization_id: org.orgId }]);
    expect(await jobCount(org.orgId)).toBe(1);
    expect(await eventCount(org.orgId, "hold_placed")).toBe(1);
  });

  it("everything needed to deliver is in storage: a fresh instance (the object after a crash) delivers with no request", async () => {
    const org = await newOrg({ tier: "starter" });
    await breakDelivery(org.ledger);
    const ids = await submitN(org.token, 4);
    expect(await alarmOf(org.ledger)).not.toBeNull(); // the durable alarm that will run after a restart
    // A new instance on the same storage has none of the crashed one's memory (nor its broken D1).
    const delivered = await runInDurableObject(org.ledger, async (_i: unknown, state: DurableObjectState) => {
      const fresh = new OrgLedger(state as unknown as DurableObjectState, env);
      await fresh.alarm();
      return (await fresh.undelivered(org.orgId)).jobs.length;
    });
    expect(delivered).toBe(0);
    const rows = await env.DB.prepare("SELECT id FROM analysis_jobs WHERE organization_id = ?").bind(org.orgId).all<{ id: string }>();
    expect(rows.results.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(await eventCount(org.orgId, "hold_placed")).toBe(4);
  });

  it("queues again, on its own timer, a job whose dispatch message no consumer ever saw", async () => {
    const org = await newOrg({ tier: "starter" });
    const [id] = await submitN(org.token, 1);
    await until(async () => (await jobCount(org.orgId)) === 1 && (await org.ledger.undelivered(org.orgId)).jobs.length === 0);
    // As if the message had been lost with the queue's process: never attempted by a consumer.
    await env.DB.prepare("UPDATE analysis_jobs SET dispatch_attempts = 0, dispatched_at = NULL WHERE id = ?").bind(id).run();
    const sends = await recordQueueSends(org.ledger);
    const checkDue = await runInDurableObject(org.ledger, (_i: unknown, state: DurableObjectState) => {
      // The check is due DISPATCH_CHECK_MS after the send; bring it forward rather than wait.
      state.storage.sql.exec("UPDATE dispatch_watch SET due_at = 0");
      return state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM dispatch_watch").one().n;
    });
    expect(checkDue).toBe(1);
    await runAlarm(org.ledger);
    expect(sends.bodies).toEqual([{ job_id: id, organization_id: org.orgId }]);
    // A job a consumer did attempt is left to the queue's own retries: the watch is forgotten.
    await env.DB.prepare("UPDATE analysis_jobs SET dispatch_attempts = 1 WHERE id = ?").bind(id).run();
    await runInDurableObject(org.ledger, (_i: unknown, state: DurableObjectState) => void state.storage.sql.exec("UPDATE dispatch_watch SET due_at = 0"));
    await runAlarm(org.ledger);
    expect(sends.bodies).toHaveLength(1);
  });
});

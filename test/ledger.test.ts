import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { call, expectEnvelope, json } from "./support/http.js";
import { account, newOrg, submission } from "./support/orgs.js";
import { breakDelivery, runAlarm, setLedgerClock } from "./support/ledger.js";
import { ledgerFor } from "../src/ledger/client.js";
import { OrgLedger } from "../src/ledger/durable_object.js";
import { LEDGER_SCHEMA_VERSION } from "../src/ledger/sql.js";
import type { AccountView, LedgerEntry } from "../src/ledger/interface.js";
import { TEST_SECRETS } from "./support/secrets.js";

const entries = async (orgId: string) => (await ledgerFor(env, orgId).entries(orgId)) as LedgerEntry[];

describe("admission order and refusals", () => {
  it("refuses a non-active subscription with 403 naming the status and where to fix it", async () => {
    const org = await newOrg({ tier: "starter" });
    await org.ledger.changePlan({ orgId: org.orgId, opId: "pd", tier: "starter", status: "past_due", reason: "payment failed" });
    const body = await expectEnvelope(await call("/api/v1/analysis/submit", { token: org.token, body: submission() }), 403, "FORBIDDEN");
    expect(body.message).toMatch(/past_due/);
    expect(body.message).toMatch(/billing portal/);
    expect(body.details).toEqual({ subscription_status: "past_due" });
  });

  it("refuses fuzzing below professional with 403 naming the feature and the lowest tier that has it", async () => {
    const org = await newOrg({ tier: "starter" });
    const body = await expectEnvelope(
      await call("/api/v1/analysis/submit", { token: org.token, body: submission({ config: { test_timeout: 60, enable_fuzzing: true } }) }),
      403,
      "FORBIDDEN",
    );
    expect(body.details).toEqual({ feature: "security_fuzzing", required_tier: "professional", current_tier: "starter" });
    expect((await account(org.orgId)).current_period_analyses).toBe(0);
  });

  it("answers 429 with Retry-After and the IETF RateLimit fields for the monthly quota", async () => {
    const org = await newOrg({ tier: "free", balance: 1000 });
    for (let i = 0; i < 10; i++) expect((await call("/api/v1/analysis/submit", { token: org.token, body: submission() })).status).toBe(201);
    const res = await call("/api/v1/analysis/submit", { token: org.token, body: submission() });
    await expectEnvelope(res, 429, "QUOTA_EXCEEDED");
    const acct = await account(org.orgId);
    const resetIn = Math.ceil((Date.parse(acct.current_period_end) - Date.now()) / 1000);
    expect(Math.abs(Number(res.headers.get("Retry-After")) - resetIn)).toBeLessThanOrEqual(5);
    expect(res.headers.get("RateLimit-Policy")).toMatch(/^"monthly-analyses";q=10;w=\d+$/);
    expect(res.headers.get("RateLimit")).toMatch(/^"monthly-analyses";r=0;t=\d+$/);
  });

  it("reports the remaining monthly analyses on admission", async () => {
    const org = await newOrg({ tier: "starter" });
    const res = await call("/api/v1/analysis/submit", { token: org.token, body: submission() });
    expect(res.status).toBe(201);
    expect(res.headers.get("RateLimit")).toMatch(/^"monthly-analyses";r=99;t=\d+$/);
  });

  it("holds nothing and refuses nothing for credits on enterprise, but records usage", async () => {
    const org = await newOrg({ tier: "enterprise" });
    const res = await call("/api/v1/analysis/submit", { token: org.token, body: submission({ config: { test_timeout: 3600, enable_fuzzing: true, enable_code_coverage: true } }) });
    expect(res.status).toBe(201);
    const { job_id } = await json(res);
    expect((await account(org.orgId)).held).toBe(0);
    await org.ledger.settle({ orgId: org.orgId, jobId: job_id, cost: 30, outcome: "completed", description: "job" });
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ current_period_credits_used: 30, balance: 0, held: 0, current_period_analyses: 1 });
  });
});

describe("holds, settlement and void", () => {
  it("settles the actual cost, grant first, and releases the rest exactly once", async () => {
    const org = await newOrg({ tier: "starter" }); // 1000 plan credits
    await org.ledger.credit({ orgId: org.orgId, opId: "pack-1", credits: 50, type: "credit_purchased", description: "pack" });
    const jobId = crypto.randomUUID();
    const admitted = (await org.ledger.admit({ orgId: org.orgId, jobId, features: { fuzzing: false, profiling: true, code_coverage: true }, testTimeoutSeconds: 900 })) as { ok: boolean; hold: number };
    expect(admitted.hold).toBe(10 + 3 + 7 + 3);
    const first = await org.ledger.settle({ orgId: org.orgId, jobId, cost: 14, outcome: "completed", description: "job" });
    const again = await org.ledger.settle({ orgId: org.orgId, jobId, cost: 14, outcome: "completed", description: "job" });
    const voided = await org.ledger.voidHold({ orgId: org.orgId, jobId, reason: "late", refundAnalysis: true });
    expect(first).toMatchObject({ state: "settled", posted: 14, replay: false });
    expect(again).toMatchObject({ state: "settled", replay: true });
    expect(voided).toMatchObject({ state: "settled", replay: true });
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ balance: 1050 - 14, grant_remaining: 986, purchased_balance: 50, held: 0, current_period_credits_used: 14 });
    const settled = (await entries(org.orgId)).filter((e) => e.job_id === jobId);
    expect(settled.map((e) => e.type)).toEqual(["hold_placed", "analysis_completed"]);
    expect(settled[1]).toMatchObject({ amount: -14, grant_amount: -14, purchased_amount: 0, held_amount: -23 });
  });

  it("never settles above the hold", async () => {
    const org = await newOrg({ tier: "starter" });
    const jobId = crypto.randomUUID();
    await org.ledger.admit({ orgId: org.orgId, jobId, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 60 });
    expect(await org.ledger.settle({ orgId: org.orgId, jobId, cost: 500, outcome: "completed", description: "job" })).toMatchObject({ posted: 11 });
  });

  it("voids a hold that outlives its deadline in the object's alarm", async () => {
    const org = await newOrg({ tier: "starter" });
    const now = Date.now();
    await setLedgerClock(org.ledger, now);
    const jobId = crypto.randomUUID();
    await org.ledger.admit({ orgId: org.orgId, jobId, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 600 });
    expect((await account(org.orgId)).held).toBe(12);
    await setLedgerClock(org.ledger, now + 600_000 + 2 * 3600_000 + 1000);
    await runAlarm(org.ledger);
    expect(await org.ledger.holdState(org.orgId, jobId)).toMatchObject({ state: "voided" });
    expect((await account(org.orgId)).held).toBe(0);
    const last = (await entries(org.orgId)).at(-1)!;
    expect(last).toMatchObject({ type: "hold_released", held_amount: -12 });
    expect(last.description).toMatch(/hold expired/);
  });
});

describe("billing periods", () => {
  it("roll over on time from the alarm alone: counters reset, unspent grant expires, new grant posted", async () => {
    const org = await newOrg({ tier: "free" });
    await org.ledger.credit({ orgId: org.orgId, opId: "buy", credits: 40, type: "credit_purchased", description: "pack" });
    const jobId = crypto.randomUUID();
    await org.ledger.admit({ orgId: org.orgId, jobId, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 60 });
    await org.ledger.settle({ orgId: org.orgId, jobId, cost: 11, outcome: "completed", description: "job" });
    const before = await account(org.orgId);
    expect(before).toMatchObject({ grant_remaining: 89, purchased_balance: 40, current_period_analyses: 1, current_period_credits_used: 11 });
    await setLedgerClock(org.ledger, Date.parse(before.current_period_end) + 1);
    await runAlarm(org.ledger);
    const after = await account(org.orgId);
    expect(after).toMatchObject({ grant_remaining: 100, purchased_balance: 40, balance: 140, current_period_analyses: 0, current_period_credits_used: 0 });
    expect(after.current_period_start).toBe(before.current_period_end);
    const types = (await entries(org.orgId)).slice(-2).map((e) => [e.type, e.amount]);
    expect(types).toEqual([["grant_expired", -89], ["plan_grant", 100]]);
  });

  it("catch up over several missed periods with one expiry and one grant", async () => {
    const org = await newOrg({ tier: "starter" });
    const start = Date.parse((await account(org.orgId)).current_period_start);
    await setLedgerClock(org.ledger, start + 100 * 86400_000);
    const acct = await account(org.orgId); // a read also rolls over, even before the alarm runs
    expect(Date.parse(acct.current_period_start)).toBeLessThanOrEqual(start + 100 * 86400_000);
    expect(Date.parse(acct.current_period_end)).toBeGreaterThan(start + 100 * 86400_000);
    expect(acct.grant_remaining).toBe(1000);
    const all = await entries(org.orgId);
    // The free grant at creation, then ONE grant for the current period (the upgrade was a plan_changed).
    expect(all.filter((e) => e.type === "plan_grant")).toHaveLength(2);
    expect(all.filter((e) => e.type === "grant_expired")).toHaveLength(1);
  });

  it("the cron sweep ticks ledgers whose period ended", async () => {
    const org = await newOrg({ tier: "free" });
    const acct = await account(org.orgId);
    await org.ledger.deliver(org.orgId);
    await setLedgerClock(org.ledger, Date.parse(acct.current_period_end) + 1);
    const { sweep } = await import("../src/services/sweep.js");
    const report = await sweep(env, Date.parse(acct.current_period_end) + 1);
    expect(report.ledgersTicked).toBeGreaterThanOrEqual(1);
    expect((await account(org.orgId)).current_period_start).toBe(acct.current_period_end);
  });
});

describe("Idempotency-Key on submit", () => {
  it("replays the original response within 24 hours without a second admission", async () => {
    const org = await newOrg({ tier: "starter" });
    const key = `key-${crypto.randomUUID()}`;
    const a = await call("/api/v1/analysis/submit", { token: org.token, body: submission(), headers: { "Idempotency-Key": key } });
    const b = await call("/api/v1/analysis/submit", { token: org.token, body: submission(), headers: { "Idempotency-Key": key } });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await json(b)).toEqual(await json(a));
    expect((await account(org.orgId)).current_period_analyses).toBe(1);
  });
  it("refuses the same key with a different body with 409", async () => {
    const org = await newOrg({ tier: "starter" });
    const key = `key-${crypto.randomUUID()}`;
    await call("/api/v1/analysis/submit", { token: org.token, body: submission(), headers: { "Idempotency-Key": key } });
    const body = await expectEnvelope(
      await call("/api/v1/analysis/submit", { token: org.token, body: submission({ image_ref: "nginx:1.26" }), headers: { "Idempotency-Key": key } }),
      409,
      "RESOURCE_CONFLICT",
    );
    expect(body.details).toEqual({ idempotency_key: key });
  });
  it("scopes keys to the organization", async () => {
    const a = await newOrg({ tier: "starter" });
    const b = await newOrg({ tier: "starter" });
    const key = `shared-${crypto.randomUUID()}`;
    const ra = await json(await call("/api/v1/analysis/submit", { token: a.token, body: submission(), headers: { "Idempotency-Key": key } }));
    const rb = await json(await call("/api/v1/analysis/submit", { token: b.token, body: submission(), headers: { "Idempotency-Key": key } }));
    expect(ra.job_id).not.toBe(rb.job_id);
  });
});

describe("POST /api/v1/analysis/quote", () => {
  it("prices with the settlement cost function and holds nothing", async () => {
    const org = await newOrg({ tier: "professional" });
    const res = await call("/api/v1/analysis/quote", { token: org.token, body: submission({ config: { test_timeout: 601, enable_fuzzing: true, enable_profiling: true } }) });
    expect(res.status).toBe(200);
    const q = await json(res);
    expect(q.line_items.map((l: { item: string; credits: number }) => [l.item, l.credits])).toEqual([["base", 10], ["fuzzing", 5], ["profiling", 3], ["duration", 3]]);
    expect(q).toMatchObject({ max_cost_credits: 21, hold_credits: 21, would_be_admitted: true, refusal: null, available_credits: 5000 });
    expect((await account(org.orgId)).held).toBe(0);
  });
  it("says why a submission would be refused", async () => {
    const org = await newOrg({ tier: "free" });
    const q = await json(await call("/api/v1/analysis/quote", { token: org.token, body: submission({ profile: "comprehensive" }) }));
    expect(q.would_be_admitted).toBe(false);
    expect(q.refusal).toMatchObject({ error: "FORBIDDEN", details: { feature: "security_fuzzing" } });
  });
});

describe("operator path", () => {
  const op = (path: string, body?: unknown, token = TEST_SECRETS.OPERATOR_TOKEN) =>
    call(`/internal/v1/ops${path}`, { method: body ? "POST" : "GET", body, headers: { Authorization: `Bearer ${token}` } });

  it("grants credits and changes tiers with a reason, as ledger entries, exactly once per request id", async () => {
    const org = await newOrg();
    const grant = { credits: 250, reason: "support ticket #42", request_id: "ticket-42-grant" };
    expect((await op(`/organizations/${org.orgId}/credits`, grant)).status).toBe(200);
    expect((await json(await op(`/organizations/${org.orgId}/credits`, grant))).applied).toBe(false);
    expect((await op(`/organizations/${org.orgId}/plan`, { tier: "professional", reason: "sales deal" })).status).toBe(200);
    const acct = await account(org.orgId);
    expect(acct).toMatchObject({ tier: "professional", purchased_balance: 250 });
    const last = (await entries(org.orgId)).slice(-2);
    expect(last.map((e) => e.type)).toEqual(["operator_adjustment", "plan_changed"]);
    expect(last[0]!.description).toMatch(/support ticket #42/);
  });
  it("refuses without the operator token, and refuses overdrafts", async () => {
    const org = await newOrg();
    await expectEnvelope(await op(`/organizations/${org.orgId}/account`, undefined, "wrong-token"), 401, "UNAUTHORIZED");
    const before = await entries(org.orgId);
    const overdraft = await expectEnvelope(
      await op(`/organizations/${org.orgId}/credits`, { credits: -5000, reason: "oops", pool: "grant", request_id: "ticket-43-fix" }),
      409,
      "RESOURCE_CONFLICT",
    );
    expect(overdraft.message).toMatch(/would overdraw the grant credits \(100, 0 held\)/);
    expect(await entries(org.orgId)).toEqual(before); // nothing written
    // The refused request id was not used up: the corrected request under it applies, once.
    const fixed = { credits: -40, reason: "corrected", pool: "grant", request_id: "ticket-43-fix" };
    expect(await json(await op(`/organizations/${org.orgId}/credits`, fixed))).toMatchObject({ applied: true, account: { grant_remaining: 60 } });
    expect(await json(await op(`/organizations/${org.orgId}/credits`, fixed))).toMatchObject({ applied: false });
    await expectEnvelope(await op(`/organizations/${org.orgId}/credits`, { credits: 1.5, reason: "x" }), 400, "VALIDATION_ERROR");
  });
});

describe("the object's own schema", () => {
  const indexes = (sql: SqlStorage) =>
    sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").toArray().map((r) => r.name);

  it("is applied once per version: a rebuilt object reads one row, an older stored version is upgraded", async () => {
    const org = await newOrg();
    await runInDurableObject(org.ledger, (_instance: OrgLedger, state) => {
      const sql = state.storage.sql;
      const all = indexes(sql);
      expect(sql.exec("SELECT version FROM ledger_schema").one()).toEqual({ version: LEDGER_SCHEMA_VERSION });
      // Current version: a rebuilt object does not run the schema (a dropped index stays dropped)…
      sql.exec("DROP INDEX holds_pending");
      new OrgLedger(state, env);
      expect(indexes(sql)).not.toContain("holds_pending");
      // …an older one does, and records the new version.
      sql.exec("UPDATE ledger_schema SET version = ?", LEDGER_SCHEMA_VERSION - 1);
      new OrgLedger(state, env);
      expect(indexes(sql)).toEqual(all);
      expect(sql.exec("SELECT version FROM ledger_schema").one()).toEqual({ version: LEDGER_SCHEMA_VERSION });
      // An object from before versioning (no ledger_schema table) is upgraded the same way.
      sql.exec("DROP TABLE ledger_schema");
      new OrgLedger(state, env);
      expect(sql.exec("SELECT version FROM ledger_schema").one()).toEqual({ version: LEDGER_SCHEMA_VERSION });
    });
    expect((await account(org.orgId)).tier).toBe("free"); // the object's data survived every rebuild
  });

  it("version 7: an object from version 6 counts its period as granted (its grant was posted with the period), so a paid invoice adds nothing", async () => {
    const org = await newOrg({ tier: "starter" });
    await runInDurableObject(org.ledger, (_instance: OrgLedger, state) => {
      const sql = state.storage.sql;
      // As version 6 left it: no grant_tier column.
      sql.exec("ALTER TABLE account DROP COLUMN grant_tier");
      sql.exec("UPDATE ledger_schema SET version = 6");
      new OrgLedger(state, env);
      expect(sql.exec("SELECT version FROM ledger_schema").one()).toEqual({ version: LEDGER_SCHEMA_VERSION });
    });
    const before = await entries(org.orgId);
    await org.ledger.changePlan({ orgId: org.orgId, opId: "v7-paid", tier: "starter", status: "active", invoice: { id: "in_v7", paid: true }, reason: "test" });
    expect((await entries(org.orgId)).filter((e) => e.type === "plan_grant")).toEqual(before.filter((e) => e.type === "plan_grant"));
    expect((await account(org.orgId)).grant_remaining).toBe(1000);
    // An upgrade from there moves the grant by the plans' difference, as for any granted period.
    await org.ledger.changePlan({ orgId: org.orgId, opId: "v7-up", tier: "professional", status: "active", invoice: { id: "in_v7_up", paid: true }, reason: "test" });
    expect((await account(org.orgId)).grant_remaining).toBe(5000);
  });

  it("version 9: an object from version 8 gains the pending tier change, none at first", async () => {
    const org = await newOrg({ tier: "professional" });
    await runInDurableObject(org.ledger, (_instance: OrgLedger, state) => {
      const sql = state.storage.sql;
      sql.exec("ALTER TABLE account DROP COLUMN pending_tier");
      sql.exec("ALTER TABLE account DROP COLUMN pending_at");
      sql.exec("UPDATE ledger_schema SET version = 8");
      new OrgLedger(state, env);
    });
    expect(await account(org.orgId)).toMatchObject({ tier: "professional", pending_tier: null, pending_tier_at: null });
    const at = "2031-01-01T00:00:00Z";
    await org.ledger.changePlan({ orgId: org.orgId, opId: "v9-down", tier: "professional", status: "active", pendingChange: { tier: "starter", at }, reason: "test" });
    expect(await account(org.orgId)).toMatchObject({ tier: "professional", pending_tier: "starter", pending_tier_at: at });
  });

  it("version 3: an entry version 2 left to the Worker's hand-off is delivered again, and the drain times go", async () => {
    const org = await newOrg({ tier: "starter" });
    const restore = await breakDelivery(org.ledger);
    const res = await call("/api/v1/analysis/submit", { token: org.token, body: submission() });
    expect(res.status).toBe(201);
    const { job_id } = await json(res);
    await runInDurableObject(org.ledger, (_instance: OrgLedger, state) => {
      const sql = state.storage.sql;
      // As version 2 left it: the hold_placed entry marked 1 (carried by the hand-off) while its job
      // was still in the outbox, and the drains table.
      sql.exec("UPDATE entries SET mirrored = 1 WHERE job_id = ?", job_id);
      sql.exec("CREATE TABLE drains (id INTEGER PRIMARY KEY CHECK (id = 1), mirror_at INTEGER NOT NULL DEFAULT 0, jobs_at INTEGER NOT NULL DEFAULT 0)");
      sql.exec("UPDATE ledger_schema SET version = 2");
      new OrgLedger(state, env);
      expect(sql.exec("SELECT mirrored FROM entries WHERE job_id = ?", job_id).one()).toEqual({ mirrored: 0 });
      expect(sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'drains'").one()).toEqual({ n: 0 });
    });
    await restore();
    await org.ledger.deliver(org.orgId);
    const ev = await env.DB.prepare("SELECT event_type FROM billing_events WHERE analysis_job_id = ?").bind(job_id).first();
    expect(ev).toEqual({ event_type: "hold_placed" });
  });

  // The tables as deploys before schema version 2 created them (sql.ts then), for the upgrade below.
  const V1_TABLES = {
    entries: `CREATE TABLE entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
      amount INTEGER NOT NULL, grant_amount INTEGER NOT NULL, purchased_amount INTEGER NOT NULL, held_amount INTEGER NOT NULL,
      balance_after INTEGER NOT NULL, held_after INTEGER NOT NULL, job_id TEXT, op_id TEXT, stripe_event_id TEXT,
      stripe_object_id TEXT, description TEXT NOT NULL, created_at INTEGER NOT NULL, mirrored INTEGER NOT NULL DEFAULT 0)`,
    holds: `CREATE TABLE holds (job_id TEXT PRIMARY KEY, amount INTEGER NOT NULL, state TEXT NOT NULL, period_index INTEGER NOT NULL,
      placed_at INTEGER NOT NULL, deadline INTEGER NOT NULL, posted INTEGER NOT NULL DEFAULT 0)`,
    job_outbox: `CREATE TABLE job_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL UNIQUE, record TEXT NOT NULL)`,
  };

  it("rebuilds an object's version-1 tables in the version-2 shape, every row kept and the outbox keyed by entry seq", async () => {
    const org = await newOrg({ tier: "starter" });
    const ledger = org.ledger;
    await ledger.deliver(org.orgId);
    const record = (id: string) => ({
      id, organizationId: org.orgId, userId: org.userId, imageRef: "nginx:1.25", imageDigest: "sha256:" + "ab".repeat(32), sbomId: null,
      profile: null, configJson: "{}", environmentJson: "{}", sbomKey: null, vulnerabilitiesKey: null, estimatedDurationMinutes: 4,
      createdAt: new Date().toISOString(),
    });
    const jobs = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    for (const id of jobs) {
      await ledger.admit({ orgId: org.orgId, jobId: id, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 60, job: record(id) });
    }
    await ledger.settle({ orgId: org.orgId, jobId: jobs[0]!, cost: 10, outcome: "completed", description: "test run" });
    const before = await account(org.orgId);
    const dump = (sql: SqlStorage) => ({
      entries: sql.exec("SELECT * FROM entries ORDER BY seq").toArray(),
      holds: sql.exec("SELECT * FROM holds ORDER BY job_id").toArray(),
      outbox: sql.exec("SELECT seq, job_id FROM job_outbox ORDER BY seq").toArray(),
    });
    const definition = (sql: SqlStorage, t: string) => sql.exec<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = ?", t).one().sql;
    await runInDurableObject(ledger, (_instance: OrgLedger, state) => {
      const sql = state.storage.sql;
      const current = dump(sql);
      const currentIndexes = indexes(sql);
      expect(current.outbox.map((r) => r.job_id)).toEqual(jobs);
      // Back to version 1: the old tables with the same rows; the outbox with its own seqs, the first
      // record from before outbox records kept their entry's seq.
      state.storage.transactionSync(() => {
        for (const [t, ddl] of Object.entries(V1_TABLES)) {
          sql.exec(`ALTER TABLE ${t} RENAME TO ${t}_old`);
          sql.exec(ddl);
        }
        sql.exec("INSERT INTO entries SELECT * FROM entries_old");
        sql.exec("INSERT INTO holds SELECT * FROM holds_old");
        sql.exec(
          `INSERT INTO job_outbox (job_id, record) SELECT job_id,
             CASE WHEN job_id = ? THEN record ELSE json_set(record, '$.holdEntrySeq', seq) END FROM job_outbox_old ORDER BY seq`,
          jobs[0]!,
        );
        for (const t of Object.keys(V1_TABLES)) sql.exec(`DROP TABLE ${t}_old`);
        sql.exec("UPDATE ledger_schema SET version = 1");
      });
      expect(sql.exec("SELECT seq FROM job_outbox ORDER BY seq").toArray().map((r) => r.seq)).toEqual([1, 2, 3]);
      expect(indexes(sql)).not.toContain("holds_pending"); // went with the old tables

      new OrgLedger(state, env);
      expect(sql.exec("SELECT version FROM ledger_schema").one()).toEqual({ version: LEDGER_SCHEMA_VERSION });
      expect(dump(sql)).toEqual(current);
      expect(indexes(sql)).toEqual(currentIndexes);
      expect(definition(sql, "entries")).not.toMatch(/AUTOINCREMENT|UNIQUE/);
      expect(definition(sql, "holds")).toMatch(/WITHOUT ROWID/);
      expect(definition(sql, "job_outbox")).not.toMatch(/AUTOINCREMENT|UNIQUE/);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE tbl_name IN ('entries', 'holds', 'job_outbox') AND name LIKE 'sqlite_autoindex_%' OR name LIKE '%_v2'").one().n).toBe(0);
      // Upgraded once: a rebuilt object at version 2 leaves the tables alone.
      new OrgLedger(state, env);
      expect(dump(sql)).toEqual(current);
    });
    // The ledger goes on from where it was: the next entry follows the last, the account is unchanged.
    expect(await account(org.orgId)).toEqual(before);
    const next = crypto.randomUUID();
    await ledger.admit({ orgId: org.orgId, jobId: next, features: { fuzzing: false, profiling: false, code_coverage: false }, testTimeoutSeconds: 60, job: record(next) });
    const all = await entries(org.orgId);
    expect(all.at(-1)).toMatchObject({ job_id: next, seq: all.at(-2)!.seq + 1 });
    expect((await account(org.orgId)).current_period_analyses).toBe(before.current_period_analyses + 1);
  });
});

/**
 * Property-based: random interleavings of admit / settle / void / purchase / rollover / hold expiry /
 * replayed calls against one organization's real ledger object. After every step: balance ≥ 0,
 * balance = Σ entry amounts, active holds = Σ held amounts ≤ balance, every replay a no-op; at the
 * end the D1 mirror equals the object.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { env } from "cloudflare:workers";
import { ledgerFor } from "../src/ledger/client.js";
import type { AccountView, LedgerEntry } from "../src/ledger/interface.js";
import type { TierName } from "../src/lib/tiers.js";
import { runAlarm, setLedgerClock } from "./support/ledger.js";

type Cmd =
  | { t: "admit"; fuzz: boolean; prof: boolean; cov: boolean; timeout: number }
  | { t: "settle"; pick: number; costFrac: number }
  | { t: "void"; pick: number }
  | { t: "purchase"; credits: number }
  | { t: "replay" }
  | { t: "rollover" }
  | { t: "expire" }
  | { t: "tier"; tier: TierName };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant("admit" as const), fuzz: fc.boolean(), prof: fc.boolean(), cov: fc.boolean(), timeout: fc.integer({ min: 60, max: 3600 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("settle" as const), pick: fc.nat(), costFrac: fc.double({ min: 0, max: 1.5, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("void" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("purchase" as const), credits: fc.integer({ min: 1, max: 500 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: "replay" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "rollover" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "expire" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("tier" as const), tier: fc.constantFrom<TierName>("free", "starter", "professional", "enterprise") }) },
);

async function checkInvariants(orgId: string) {
  const ledger = ledgerFor(env, orgId);
  const acct = (await ledger.getAccount(orgId)) as AccountView;
  const entries = (await ledger.entries(orgId, 0, 100_000)) as LedgerEntry[];
  const sum = entries.reduce((s, e) => s + e.amount, 0);
  const held = entries.reduce((s, e) => s + e.held_amount, 0);
  expect(acct.balance).toBeGreaterThanOrEqual(0);
  expect(acct.grant_remaining).toBeGreaterThanOrEqual(0);
  expect(acct.purchased_balance).toBeGreaterThanOrEqual(0);
  expect(sum).toBe(acct.balance);
  expect(held).toBe(acct.held);
  expect(acct.held).toBeLessThanOrEqual(acct.balance);
  if (entries.length) expect(entries[entries.length - 1]!.balance_after).toBe(acct.balance);
  return { acct, entries };
}

describe("ledger invariants under random interleavings", () => {
  it("hold for every sequence of operations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 30 }), async (cmds) => {
        const orgId = crypto.randomUUID();
        const ledger = ledgerFor(env, orgId);
        let clock = Date.now();
        await setLedgerClock(ledger, clock);
        await ledger.getAccount(orgId);
        const jobs: string[] = [];
        let last: (() => Promise<unknown>) | null = null;
        for (const c of cmds) {
          let op: (() => Promise<unknown>) | null = null;
          switch (c.t) {
            case "admit": {
              const jobId = crypto.randomUUID();
              const key = `k-${jobId}`;
              op = () => ledger.admit({ orgId, jobId, features: { fuzzing: c.fuzz, profiling: c.prof, code_coverage: c.cov }, testTimeoutSeconds: c.timeout, idempotencyKey: key, requestHash: "h" });
              const r = (await op()) as { ok: boolean };
              if (r.ok) jobs.push(jobId);
              break;
            }
            case "settle": {
              const jobId = jobs[c.pick % Math.max(1, jobs.length)];
              if (!jobId) break;
              const h = (await ledger.holdState(orgId, jobId))!;
              op = () => ledger.settle({ orgId, jobId, cost: Math.floor(h.amount * c.costFrac), outcome: "completed", description: "job" });
              await op();
              break;
            }
            case "void": {
              const jobId = jobs[c.pick % Math.max(1, jobs.length)];
              if (!jobId) break;
              op = () => ledger.voidHold({ orgId, jobId, reason: "test", refundAnalysis: true });
              await op();
              break;
            }
            case "purchase": {
              const opId = crypto.randomUUID();
              op = () => ledger.credit({ orgId, opId, credits: c.credits, type: "credit_purchased", description: "pack" });
              await op();
              break;
            }
            case "tier": {
              const opId = crypto.randomUUID();
              op = () => ledger.changePlan({ orgId, opId, tier: c.tier, status: "active", reason: "test" });
              await op();
              break;
            }
            case "replay": {
              if (!last) break;
              const before = (await ledger.getAccount(orgId)) as AccountView;
              const beforeEntries = ((await ledger.entries(orgId, 0, 100_000)) as LedgerEntry[]).length;
              await last();
              const after = (await ledger.getAccount(orgId)) as AccountView;
              expect(after.balance).toBe(before.balance);
              expect(after.held).toBe(before.held);
              expect(after.current_period_analyses).toBe(before.current_period_analyses);
              expect(((await ledger.entries(orgId, 0, 100_000)) as LedgerEntry[]).length).toBe(beforeEntries);
              break;
            }
            case "rollover": {
              const acct = (await ledger.getAccount(orgId)) as AccountView;
              clock = Date.parse(acct.current_period_end) + 1000;
              await setLedgerClock(ledger, clock);
              await runAlarm(ledger);
              const after = (await ledger.getAccount(orgId)) as AccountView;
              expect(after.current_period_analyses).toBe(0);
              expect(after.current_period_credits_used).toBe(0);
              break;
            }
            case "expire": {
              clock += 3 * 3600_000 + 3600_000; // past every hold's deadline (timeout ≤ 1 h + 2 h margin)
              await setLedgerClock(ledger, clock);
              await runAlarm(ledger);
              expect(((await ledger.getAccount(orgId)) as AccountView).held).toBe(0);
              break;
            }
          }
          if (op) last = op;
          await checkInvariants(orgId);
        }
        // The D1 mirror converges on the object.
        await ledger.deliver(orgId);
        const { acct, entries } = await checkInvariants(orgId);
        const d1 = await env.DB.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(credits_amount), 0) AS total, COALESCE(SUM(held_amount), 0) AS held FROM billing_events WHERE organization_id = ?")
          .bind(orgId)
          .first<{ n: number; total: number; held: number }>();
        expect(d1).toEqual({ n: entries.length, total: acct.balance, held: acct.held });
        const sub = await env.DB.prepare("SELECT tier, current_period_analyses, current_period_credits_used FROM subscriptions WHERE organization_id = ?").bind(orgId).first();
        expect(sub).toEqual({ tier: acct.tier, current_period_analyses: acct.current_period_analyses, current_period_credits_used: acct.current_period_credits_used });
        const org = await env.DB.prepare("SELECT credit_balance FROM organizations WHERE id = ?").bind(orgId).first<{ credit_balance: number }>();
        expect(org!.credit_balance).toBe(acct.balance);
      }),
      { numRuns: 150 },
    );
  }, 240_000);
});

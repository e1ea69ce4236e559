/** The Worker's job hand-off: batched rounds across organizations, failures left to the ledger's outbox. */
import { describe, expect, it } from "vitest";
import { handOffJob } from "../src/queues/handoff.js";
import type { NewJobRecord } from "../src/db/jobs.js";

function fakeEnv(opts: { failD1?: boolean } = {}) {
  const d1Batches: unknown[][] = [];
  const sent: unknown[][] = [];
  const env = {
    DB: {
      prepare: (sql: string) => ({ bind: (...params: unknown[]) => ({ sql, params }) }),
      batch: async (stmts: unknown[]) => {
        if (opts.failD1) throw new Error("D1 unavailable");
        d1Batches.push(stmts);
        return [];
      },
    },
    ANALYSIS_QUEUE: { sendBatch: async (msgs: unknown[]) => void sent.push(msgs) },
  } as unknown as Env;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  return { env, ctx, d1Batches, sent, settle: async () => { while (pending.length) await pending.shift(); } };
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

describe("job hand-off", () => {
  it("sends the first job at once and the jobs of several organizations admitted meanwhile together", async () => {
    const f = fakeEnv();
    const first = job(crypto.randomUUID());
    handOffJob(f.env, f.ctx, first);
    const next = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()].map(job);
    for (const j of next) handOffJob(f.env, f.ctx, j); // while the first round's writes are in flight
    await f.settle();
    const msgs = (jobs: NewJobRecord[]) => jobs.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } }));
    expect(f.sent).toEqual([msgs([first]), msgs(next)]);
    // 17 columns a row (5 rows a statement under D1's 100 bound parameters): one INSERT carries the three.
    expect(f.d1Batches).toHaveLength(2);
    const [stmt] = f.d1Batches[1] as { sql: string; params: unknown[] }[];
    expect(stmt!.sql).toMatch(/^INSERT OR IGNORE INTO analysis_jobs/);
    expect(stmt!.params).toHaveLength(3 * 17);
  });

  it("never throws into the request when D1 fails (the ledger's outbox writes those jobs later)", async () => {
    const f = fakeEnv({ failD1: true });
    handOffJob(f.env, f.ctx, job(crypto.randomUUID()));
    await expect(f.settle()).resolves.toBeUndefined();
    expect(f.sent).toHaveLength(0);
    const ok = fakeEnv();
    handOffJob(ok.env, ok.ctx, job(crypto.randomUUID()));
    await ok.settle();
    expect(ok.sent).toHaveLength(1);
  });
});

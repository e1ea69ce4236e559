/** The Worker's job hand-off: batched rounds across organizations, failures left to the ledger's outbox. */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { handOffJob } from "../src/queues/handoff.js";
import { insertNewJobs, type NewJobRecord } from "../src/db/jobs.js";

/** The test's real D1, with every statement the hand-off prepares recorded (or every call failing). */
function fakeEnv(opts: { failD1?: boolean } = {}) {
  const statements: { sql: string; params: unknown[] }[] = [];
  const sent: unknown[][] = [];
  const DB = {
    prepare: (sql: string) => {
      if (opts.failD1) throw new Error("D1 unavailable");
      const stmt = env.DB.prepare(sql);
      return { bind: (...params: unknown[]) => (statements.push({ sql, params }), stmt.bind(...params)) };
    },
  };
  const testEnv = { ...env, DB, ANALYSIS_QUEUE: { sendBatch: async (msgs: unknown[]) => void sent.push(msgs) } } as unknown as Env;
  const pending: Promise<unknown>[] = [];
  const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };
  return { env: testEnv, ctx, statements, sent, settle: async () => { while (pending.length) await pending.shift(); } };
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

describe("job hand-off", () => {
  it("sends the first job at once and the jobs of several organizations admitted meanwhile together", async () => {
    const f = fakeEnv();
    const first = job(await orgRow());
    handOffJob(f.env, f.ctx, first);
    const next = await Promise.all([orgRow(), orgRow(), orgRow()]).then((orgs) => orgs.map(job));
    for (const j of next) handOffJob(f.env, f.ctx, j); // while the first round's writes are in flight
    await f.settle();
    const msgs = (jobs: NewJobRecord[]) => jobs.map((j) => ({ body: { job_id: j.id, organization_id: j.organizationId } }));
    expect(f.sent).toEqual([msgs([first]), msgs(next)]);
    // One statement a round, whatever its size: the jobs travel as one JSON parameter.
    expect(f.statements).toHaveLength(2);
    expect(f.statements[1]!.sql).toMatch(/^INSERT OR IGNORE INTO analysis_jobs/);
    expect(f.statements[1]!.params).toHaveLength(1);
    // …and land in D1 column for column.
    for (const j of [first, ...next]) {
      const row = await env.DB.prepare("SELECT * FROM analysis_jobs WHERE id = ?").bind(j.id).first<Record<string, unknown>>();
      expect(row).toMatchObject({
        organization_id: j.organizationId, user_id: j.userId, status: "queued", image_ref: j.imageRef, image_digest: j.imageDigest,
        sbom_id: null, profile: null, config_json: "{}", environment_json: "{}", sbom_key: null, vulnerabilities_key: null,
        max_cost: 11, estimated_duration_minutes: 4, reachability_verdicts: 1, created_at: j.createdAt, updated_at: j.createdAt,
      });
    }
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

  it("never throws into the request when D1 fails (the ledger's outbox writes those jobs later)", async () => {
    const f = fakeEnv({ failD1: true });
    handOffJob(f.env, f.ctx, job(await orgRow()));
    await expect(f.settle()).resolves.toBeUndefined();
    expect(f.sent).toHaveLength(0);
    const ok = fakeEnv();
    handOffJob(ok.env, ok.ctx, job(await orgRow()));
    await ok.settle();
    expect(ok.sent).toHaveLength(1);
  });
});

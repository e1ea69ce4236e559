import type { Database } from "../../db/client.js";
import { listJobs } from "../../db/jobs.js";
import type { JobRow, JobStatus } from "../../db/schema.js";
import { undeliveredJobs } from "./submitAnalysis.js";

/**
 * The organization's jobs, newest first, keyset-paginated by (created_at, id): D1's, plus those its
 * ledger has admitted and not yet delivered (queued), so a job is listed the moment it is admitted.
 */
export async function listAnalyses({
  env,
  db,
  orgId,
  status,
  limit,
  cursor,
}: {
  env: Env;
  db: Database;
  orgId: string;
  status?: JobStatus;
  limit: number;
  cursor?: { createdAt: string; id: string };
}): Promise<JobRow[]> {
  const [stored, held] = await Promise.all([
    listJobs(db, orgId, { ...(status ? { status } : {}), limit, ...(cursor ? { cursor } : {}) }),
    status === undefined || status === "queued" ? undeliveredJobs(env, orgId) : Promise.resolve([]),
  ]);
  const before = (j: JobRow) => !cursor || j.createdAt < cursor.createdAt || (j.createdAt === cursor.createdAt && j.id < cursor.id);
  const byId = new Map<string, JobRow>();
  for (const j of [...stored, ...held.filter(before)]) if (!byId.has(j.id)) byId.set(j.id, j);
  return [...byId.values()]
    .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
    .slice(0, limit);
}

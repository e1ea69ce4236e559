/**
 * The pages' one read outside the ledger and the billing services: recent analysis jobs. The
 * analysis_jobs table arrives with a later migration; until it exists the section says so.
 */
export interface RecentJob {
  id: string;
  status: string;
  image_ref: string;
  created_at: string;
}

export async function recentJobs(d1: D1Database, orgId: string, limit = 10): Promise<RecentJob[] | null> {
  try {
    const { results } = await d1
      .prepare("SELECT id, status, image_ref, created_at FROM analysis_jobs WHERE organization_id = ? ORDER BY created_at DESC LIMIT ?")
      .bind(orgId, limit)
      .all<RecentJob>();
    return results;
  } catch (err) {
    if (/no such table|no such column/i.test(String(err))) return null;
    throw err;
  }
}

import type { Database } from "../../db/client.js";
import { getJobById } from "../../db/jobs.js";
import { inputKey } from "../analysis/storage.js";

/** A job's stored input (its SBOM or scan) for the runner, or null when the job has none of that kind. */
export async function getJobInput(env: Env, db: Database, jobId: string, kind: "sbom" | "vulnerabilities"): Promise<R2ObjectBody | null | "no_job"> {
  const job = await getJobById(db, jobId);
  if (!job) return "no_job";
  const key = kind === "sbom" ? job.sbomKey : job.vulnerabilitiesKey;
  return key === inputKey(job.organizationId, job.id, kind) ? env.ARTIFACTS.get(key) : null;
}

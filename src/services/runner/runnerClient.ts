/** Signed requests from the Worker to the sandbox-runner (the contract: @vexxy/contract, contract/src/index.ts). */
import type { Config } from "../../env.js";
import { DispatchBatchResultSchema, signRequest, type DispatchJob } from "@vexxy/contract";

export type DispatchOutcome = { kind: "accepted" } | { kind: "busy"; retryAfter: number | null } | { kind: "rejected"; status: number; body: string } | { kind: "unreachable"; error: string };

/**
 * The Cloudflare Access service token for the runner's hostname, when configured (staging and
 * production require it: the runner sits behind a Cloudflare Tunnel, docs/deploy.md). The HMAC
 * signature is still what the runner checks.
 */
function accessHeaders(config: Config): Record<string, string> {
  if (!config.RUNNER_ACCESS_CLIENT_ID || !config.RUNNER_ACCESS_CLIENT_SECRET) return {};
  return { "CF-Access-Client-Id": config.RUNNER_ACCESS_CLIENT_ID, "CF-Access-Client-Secret": config.RUNNER_ACCESS_CLIENT_SECRET };
}

/** A dispatch request stays well under the runner's 1 MiB body limit. */
const BATCH_BODY_BUDGET = 512 * 1024;

/**
 * Dispatches several jobs in one signed request per ≤ 512 KiB (POST /v1/job-batches); the outcome
 * of each job is what POST /v1/jobs would have answered for it alone. A request that fails as a
 * whole gives every job in it the same outcome.
 */
export async function dispatchBatchToRunner(config: Config, jobs: DispatchJob[]): Promise<Map<string, DispatchOutcome>> {
  const out = new Map<string, DispatchOutcome>();
  const chunks: { bodies: string[]; jobs: DispatchJob[] }[] = [];
  let size = 0;
  for (const job of jobs) {
    const body = JSON.stringify(job);
    let chunk = chunks[chunks.length - 1];
    if (!chunk || size + body.length > BATCH_BODY_BUDGET) {
      chunk = { bodies: [], jobs: [] };
      chunks.push(chunk);
      size = 0;
    }
    chunk.bodies.push(body);
    chunk.jobs.push(job);
    size += body.length + 1;
  }
  await Promise.all(
    chunks.map(async (chunk) => {
      for (const [id, outcome] of await postBatch(config, chunk.jobs, `{"jobs":[${chunk.bodies.join(",")}]}`)) out.set(id, outcome);
    }),
  );
  return out;
}

async function postBatch(config: Config, jobs: DispatchJob[], body: string): Promise<Map<string, DispatchOutcome>> {
  const path = "/v1/job-batches";
  const all = (o: DispatchOutcome) => new Map(jobs.map((j) => [j.job_id, o]));
  let res: Response;
  let text: string;
  try {
    res = await fetch(config.RUNNER_URL + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...accessHeaders(config), ...(await signRequest(config.RUNNER_SECRET, "POST", path, body)) },
      body,
    });
    text = await res.text();
  } catch (err) {
    // Refused, reset, or lost while reading the answer: the jobs are retried like an unreachable runner.
    return all({ kind: "unreachable", error: String(err) });
  }
  if (res.status === 503 || res.status === 429) {
    const ra = Number(res.headers.get("Retry-After"));
    return all({ kind: "busy", retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null });
  }
  if (res.status >= 500) return all({ kind: "unreachable", error: `runner answered ${res.status}` });
  if (res.status !== 200) return all({ kind: "rejected", status: res.status, body: text.slice(0, 500) });
  let parsed;
  try {
    parsed = DispatchBatchResultSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = null;
  }
  if (!parsed?.success) return all({ kind: "unreachable", error: "runner answered 200 with a body that is not a batch result" });
  const out = new Map<string, DispatchOutcome>();
  for (const r of parsed.data.results) {
    out.set(
      r.job_id,
      r.outcome === "accepted" || r.outcome === "duplicate"
        ? { kind: "accepted" }
        : r.outcome === "busy" || r.outcome === "shutting_down"
          ? { kind: "busy", retryAfter: parsed.data.retry_after_seconds }
          : { kind: "rejected", status: 409, body: r.message ?? r.outcome },
    );
  }
  // A job the runner did not answer for is retried like an unreachable runner.
  for (const j of jobs) if (!out.has(j.job_id)) out.set(j.job_id, { kind: "unreachable", error: "runner gave no result for the job" });
  return out;
}

export async function tellRunnerToCancel(config: Config, jobId: string): Promise<boolean> {
  const path = `/v1/jobs/${jobId}`;
  const res = await fetch(config.RUNNER_URL + path, { method: "DELETE", headers: { ...accessHeaders(config), ...(await signRequest(config.RUNNER_SECRET, "DELETE", path, "")) } });
  return res.ok;
}

/** Helpers that act as the sandbox-runner: signed callbacks to the Worker, and a stand-in for its HTTP API. */
import { vi } from "vitest";
import { call } from "./http.js";
import { signRequest } from "@vexxy/contract";
import { TEST_SECRETS } from "./secrets.js";

export async function runnerCall(method: string, path: string, body?: unknown, opts: { secret?: string; now?: number; headers?: Record<string, string> } = {}) {
  const raw = body === undefined ? "" : JSON.stringify(body);
  const headers = await signRequest(opts.secret ?? TEST_SECRETS.RUNNER_SECRET, method, path, raw, opts.now);
  return call(path, { method, body: body === undefined ? undefined : raw, headers: { ...headers, ...(opts.headers ?? {}) } });
}

export const progress = (jobId: string, phase: string, pct: number, extra: Record<string, unknown> = {}) =>
  runnerCall("POST", `/internal/v1/jobs/${jobId}/progress`, { phase, progress_percent: pct, ...extra });

export function completion(over: Record<string, unknown> = {}) {
  return {
    vex_document: { "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://vexxy.example.com/vex/test", author: "VEXxy Premium Analysis", timestamp: "2026-01-01T00:00:00Z", version: 1, statements: [] },
    execution_profile: { files_accessed: 3, executables: ["/usr/sbin/nginx"] },
    reachability_results: { decisions: [] },
    security_findings: { status: "skipped", reason: "ZAP image unavailable", total_alerts: 0, high_risk: 0, medium_risk: 0, low_risk: 0, informational: 0, alerts: [] },
    features_ran: { fuzzing: false, profiling: true, code_coverage: false },
    sandbox_seconds: 301,
    ...over,
  };
}

/**
 * Replaces the runner's HTTP API (what the Worker's queue consumer and cancel call) for one test.
 * `answer` speaks the single-job protocol (POST /v1/jobs, DELETE /v1/jobs/{id}); a batch dispatch
 * (POST /v1/job-batches) is answered as the runner does: each job as `answer` would answer it alone.
 */
export function stubRunner(answer: (req: Request) => Response | Promise<Response>) {
  const seen: Request[] = [];
  const original = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input as RequestInfo, init);
    const url = new URL(req.url);
    if (url.port !== "9") return original(input as RequestInfo, init);
    seen.push(req.clone());
    if (url.pathname !== "/v1/job-batches") return answer(req);
    const { jobs } = (await req.json()) as { jobs: { job_id: string }[] };
    const results = [];
    let retryAfter = 1;
    for (const job of jobs) {
      const single = new Request(new URL("/v1/jobs", url), { method: "POST", headers: req.headers, body: JSON.stringify(job) });
      const res = await answer(single);
      if (res.status === 200 || res.status === 202) results.push({ job_id: job.job_id, outcome: "accepted" });
      else if (res.status === 503 || res.status === 429) {
        retryAfter = Number(res.headers.get("Retry-After")) || retryAfter;
        results.push({ job_id: job.job_id, outcome: "busy" });
      } else if (res.status === 409) results.push({ job_id: job.job_id, outcome: "conflict", message: await res.text() });
      else return res; // a 400 / 401 / 5xx answers the whole request
    }
    return Response.json({ results, retry_after_seconds: retryAfter });
  });
  return { seen, restore: () => spy.mockRestore() };
}

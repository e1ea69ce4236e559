/** Signed requests from the Worker to the sandbox-runner (contract in src/queues/contract.ts). */
import type { Config } from "../../env.js";
import { signRequest, type DispatchJob } from "../../queues/contract.js";

export type DispatchOutcome = { kind: "accepted" } | { kind: "busy"; retryAfter: number | null } | { kind: "rejected"; status: number; body: string } | { kind: "unreachable"; error: string };

export async function dispatchToRunner(config: Config, job: DispatchJob): Promise<DispatchOutcome> {
  const path = "/v1/jobs";
  const body = JSON.stringify(job);
  let res: Response;
  try {
    res = await fetch(config.RUNNER_URL + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(await signRequest(config.RUNNER_SECRET, "POST", path, body)) },
      body,
    });
  } catch (err) {
    return { kind: "unreachable", error: String(err) };
  }
  const text = await res.text();
  if (res.status === 202 || res.status === 200) return { kind: "accepted" };
  if (res.status === 503 || res.status === 429) {
    const ra = Number(res.headers.get("Retry-After"));
    return { kind: "busy", retryAfter: Number.isFinite(ra) && ra > 0 ? ra : null };
  }
  if (res.status >= 500) return { kind: "unreachable", error: `runner answered ${res.status}` };
  return { kind: "rejected", status: res.status, body: text.slice(0, 500) };
}

export async function tellRunnerToCancel(config: Config, jobId: string): Promise<boolean> {
  const path = `/v1/jobs/${jobId}`;
  const res = await fetch(config.RUNNER_URL + path, { method: "DELETE", headers: await signRequest(config.RUNNER_SECRET, "DELETE", path, "") });
  return res.ok;
}

/** Sends requests to the runner the way the Worker does: signed with the shared secret. */
import { signRequest } from "@vexxy/contract";

export interface SentResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export async function send(
  baseUrl: string,
  method: string,
  path: string,
  body: string,
  opts: { secret?: string; headers?: Record<string, string>; now?: number } = {},
): Promise<SentResponse> {
  const signed = opts.secret ? await signRequest(opts.secret, method, path, body, opts.now) : {};
  const res = await fetch(baseUrl + path, {
    method,
    headers: { "content-type": "application/json", ...signed, ...opts.headers },
    ...(method === "GET" || method === "DELETE" ? (body ? { body } : {}) : { body }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { _text: text };
  }
  return { status: res.status, headers: res.headers, json };
}

export function dispatch(baseUrl: string, secret: string, job: unknown): Promise<SentResponse> {
  return send(baseUrl, "POST", "/v1/jobs", JSON.stringify(job), { secret });
}

export function cancel(baseUrl: string, secret: string, jobId: string): Promise<SentResponse> {
  return send(baseUrl, "DELETE", `/v1/jobs/${jobId}`, "", { secret });
}

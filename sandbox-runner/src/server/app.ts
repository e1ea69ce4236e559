/**
 * The runner's HTTP server (node:http): a fixed route table, one error handler, JSON envelopes.
 * Job routes are signed by the Worker; /healthz and /metrics are open and carry no job data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { errorMessage } from "../pipeline/log.js";
import type { Handler, ServerContext } from "./context.js";
import { healthz } from "./healthz.js";
import { HttpError, sendError } from "./http.js";
import { metrics } from "./metrics.js";
import { createJob } from "./v1_jobs_create.js";
import { createJobBatch } from "./v1_job_batches_create.js";
import { deleteJob } from "./v1_jobs_delete.js";

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const ROUTES: Route[] = [
  { method: "POST", pattern: /^\/v1\/jobs$/, handler: createJob },
  { method: "POST", pattern: /^\/v1\/job-batches$/, handler: createJobBatch },
  { method: "DELETE", pattern: /^\/v1\/jobs\/(?<id>[^/]+)$/, handler: deleteJob },
  { method: "GET", pattern: /^\/healthz$/, handler: healthz },
  { method: "GET", pattern: /^\/metrics$/, handler: metrics },
];

export function createRunnerServer(ctx: ServerContext): Server {
  const server = createServer((req, res) => {
    void handle(req, res, ctx);
  });
  // Slow-loris protection; the Worker's requests are small and quick.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: ServerContext): Promise<void> {
  try {
    const pathname = (req.url ?? "/").split("?")[0] ?? "/";
    const matches = ROUTES.map((r) => ({ r, m: r.pattern.exec(pathname) })).filter((x) => x.m);
    if (matches.length === 0) throw new HttpError("not_found", `no route for ${pathname}`);
    const hit = matches.find((x) => x.r.method === req.method);
    if (!hit) throw new HttpError("method_not_allowed", `${req.method} is not allowed on ${pathname}`);
    const params = Object.fromEntries(Object.entries(hit.m!.groups ?? {}).map(([k, v]) => [k, decodeParam(v)]));
    await hit.r.handler(req, res, ctx, params);
  } catch (err) {
    const httpErr = err instanceof HttpError ? err : new HttpError("internal", "internal error");
    if (!(err instanceof HttpError)) ctx.logger.error("request failed", { method: req.method, url: req.url, error: errorMessage(err) });
    if (res.headersSent) return void res.destroy();
    if (httpErr.status === 413) res.setHeader("connection", "close");
    sendError(res, httpErr);
  }
}

function decodeParam(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError("invalid_request", "malformed path parameter");
  }
}

/**
 * A local stand-in for the Worker's internal API (the part the runner calls): verifies every
 * request's signature and nonce exactly as the Worker must, records the callbacks, serves stored
 * job inputs, and answers with scripted statuses when a test wants errors.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyRequest } from "@vexxy/contract";

export interface ReceivedCall {
  method: string;
  path: string;
  jobId: string;
  /** progress | complete | fail | inputs/sbom | inputs/vulnerabilities */
  kind: string;
  body: unknown;
  at: number;
}

export type Responder = (call: ReceivedCall) => { status: number; body?: unknown } | undefined;

export class WorkerReceiver {
  readonly calls: ReceivedCall[] = [];
  /** Requests refused for a bad signature or a replayed nonce: must stay empty in every test. */
  readonly refused: { path: string; reason: string }[] = [];
  readonly inputs = new Map<string, { sbom?: unknown; vulnerabilities?: unknown }>();
  respond: Responder | undefined;
  private readonly nonces = new Set<string>();
  private server: Server | undefined;
  private waiters: { pred: (c: ReceivedCall) => boolean; resolve: (c: ReceivedCall) => void }[] = [];
  url = "";

  constructor(private readonly secret: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const path = req.url ?? "";
          const check = await verifyRequest(this.secret, req.method ?? "", path, raw, {
            get: (n) => {
              const v = req.headers[n.toLowerCase()];
              return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
            },
          });
          const reason = !check.ok ? check.reason : this.nonces.has(check.nonce) ? "replayed nonce" : undefined;
          if (check.ok) this.nonces.add(check.nonce);
          if (reason) {
            this.refused.push({ path, reason });
            res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "unauthorized" }));
            return;
          }
          const m = /^\/internal\/v1\/jobs\/([^/]+)\/(.+)$/.exec(path);
          const call: ReceivedCall = {
            method: req.method ?? "",
            path,
            jobId: m ? decodeURIComponent(m[1]!) : "",
            kind: m ? m[2]! : "",
            body: raw ? JSON.parse(raw) : undefined,
            at: Date.now(),
          };
          this.calls.push(call);
          this.waiters = this.waiters.filter((w) => (w.pred(call) ? (w.resolve(call), false) : true));
          const scripted = this.respond?.(call);
          if (scripted) {
            res.writeHead(scripted.status, { "content-type": "application/json" }).end(JSON.stringify(scripted.body ?? {}));
            return;
          }
          if (call.kind.startsWith("inputs/")) {
            const doc = this.inputs.get(call.jobId)?.[call.kind.slice(7) as "sbom" | "vulnerabilities"];
            if (doc === undefined) return void res.writeHead(404).end(JSON.stringify({ error: "not_found" }));
            return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
          }
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
        })();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Resolves with the first call (already received or future) matching `pred`. */
  waitFor(pred: (c: ReceivedCall) => boolean, timeoutMs = 5_000): Promise<ReceivedCall> {
    const seen = this.calls.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching Worker call within ${timeoutMs} ms; got ${this.describe()}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (c) => {
          clearTimeout(t);
          resolve(c);
        },
      });
    });
  }

  /** The job's final callback (complete or fail). */
  final(jobId: string, timeoutMs?: number): Promise<ReceivedCall> {
    return this.waitFor((c) => c.jobId === jobId && (c.kind === "complete" || c.kind === "fail"), timeoutMs);
  }

  of(jobId: string, kind?: string): ReceivedCall[] {
    return this.calls.filter((c) => c.jobId === jobId && (kind === undefined || c.kind === kind));
  }

  describe(): string {
    return JSON.stringify(this.calls.map((c) => `${c.kind}:${c.jobId.slice(0, 8)}`));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

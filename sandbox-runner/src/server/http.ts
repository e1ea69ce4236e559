/** Small node:http helpers: bounded body reading and the one JSON error envelope. */
import type { IncomingMessage, ServerResponse } from "node:http";

export type ErrorCode =
  | "unauthorized"
  | "invalid_request"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "conflict"
  | "at_capacity"
  | "shutting_down"
  | "internal";

const STATUS: Record<ErrorCode, number> = {
  unauthorized: 401,
  invalid_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  conflict: 409,
  at_capacity: 503,
  shutting_down: 503,
  internal: 500,
};

/** Thrown by handlers; the server turns it into the error envelope. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(
    res,
    err.status,
    { error: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}), timestamp: new Date().toISOString() },
    err.headers,
  );
}

/** Reads the raw body as UTF-8, refusing more than `limit` bytes (413) before buffering it all. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const tooLarge = (limit: number) => new HttpError("payload_too_large", `request body exceeds ${limit} bytes`);

/** Headers in the shape the contract's verifyRequest reads. */
export function headerGetter(req: IncomingMessage): { get(name: string): string | null } {
  return {
    get(name) {
      const v = req.headers[name.toLowerCase()];
      if (Array.isArray(v)) return v[0] ?? null;
      return v ?? null;
    },
  };
}

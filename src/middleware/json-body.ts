import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";

/** Requests that carry a body must say it is JSON; otherwise a clear 415 instead of "field required". */
export const requireJson = createMiddleware<AppEnv>(async (c, next) => {
  if (["POST", "PUT", "PATCH"].includes(c.req.method)) {
    const length = c.req.header("Content-Length");
    const hasBody = (length !== undefined && length !== "0") || c.req.header("Transfer-Encoding") !== undefined;
    const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (hasBody && type !== "application/json") {
      throw new ApiError("VALIDATION_ERROR", "Content-Type must be application/json", { content_type: type || null }, { status: 415 });
    }
  }
  await next();
});

/**
 * Caps request bodies at `maxBytes`, counted as they arrive (chunked bodies too); a larger one is
 * answered 413 in the envelope. hono's own bodyLimit answers as soon as the limit is passed, and a
 * client still sending then sees a reset connection instead of the answer; this drains first.
 */
export const limitBody = (maxBytes: number) =>
  createMiddleware<AppEnv>(async (c, next) => {
    if (!c.req.raw.body) return next();
    const bytes = await readCapped(c.req.raw, maxBytes);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  });

/**
 * After a body passes its limit, the rest is read and dropped (up to the platform's own request
 * limit, 100 MB on every Cloudflare plan) before the 413 is sent, so a client still sending reads the
 * answer instead of a reset connection.
 */
const DRAIN_LIMIT_BYTES = 100 * 1024 * 1024;

/** Reads a request body as text, at most `maxBytes` (413 in the envelope beyond). */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readCapped(req, maxBytes));
}

async function readCapped(req: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError("VALIDATION_ERROR", `Request body exceeds ${maxBytes} bytes`, { max_bytes: maxBytes }, { status: 413 });
  const declared = Number(req.headers.get("Content-Length") ?? NaN);
  if (declared > DRAIN_LIMIT_BYTES) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      while (size <= DRAIN_LIMIT_BYTES) {
        const next = await reader.read();
        if (next.done) break;
        size += next.value.byteLength;
      }
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

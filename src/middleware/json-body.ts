import { createMiddleware } from "hono/factory";
import { bodyLimit } from "hono/body-limit";
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

/** Caps request bodies; a larger one is refused with 413 before it is read. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError("VALIDATION_ERROR", `Request body exceeds ${maxBytes} bytes`, { max_bytes: maxBytes }, { status: 413 });
    },
  });

/** After a body passes its limit, up to this much more is read and dropped so the client can read the 413. */
const LINGER_BYTES = 4 * 1024 * 1024;

/**
 * Reads a request body as text, at most `maxBytes`, whether or not it declares a Content-Length
 * (chunked bodies are counted as they arrive). Over the limit: 413 in the envelope. The rest of an
 * oversized body is drained up to LINGER_BYTES first, so a client still sending gets the answer
 * instead of a reset connection.
 */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<string> {
  const tooLarge = () => new ApiError("VALIDATION_ERROR", `Request body exceeds ${maxBytes} bytes`, { max_bytes: maxBytes }, { status: 413 });
  const declared = Number(req.headers.get("Content-Length") ?? NaN);
  if (declared > maxBytes + LINGER_BYTES) throw tooLarge();
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      while (size <= maxBytes + LINGER_BYTES) {
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
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

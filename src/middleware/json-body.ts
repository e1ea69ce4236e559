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

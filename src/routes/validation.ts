import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";
import { zodDetails } from "../errors/envelope.js";

/** Every zod validation failure becomes VALIDATION_ERROR naming the offending fields. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) {
    const details = zodDetails(result.error.issues);
    const target = (result as { target?: string }).target;
    const names = details.fields.map((f) => f.field).join(", ");
    throw new ApiError("VALIDATION_ERROR", `Invalid ${target === "query" ? "query parameters" : target === "param" ? "path parameters" : "request"}: ${names}`, details);
  }
};

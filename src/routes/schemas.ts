/** Schemas shared by several routes: the error envelope and the standard error responses. */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "../errors/codes.js";

const ErrorSchema = z
  .object({
    error: z.enum(ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
    timestamp: z.string().openapi({ example: "2025-11-17T10:00:00Z" }),
  })
  .openapi("Error");

const err = (description: string) => ({ content: { "application/json": { schema: ErrorSchema } }, description });

export const errorResponses = {
  400: err("VALIDATION_ERROR: invalid request data; `details.fields` names each offending field"),
  401: err("UNAUTHORIZED: missing or invalid authentication"),
  500: err("INTERNAL_ERROR"),
} as const;

export const authErrorResponses = { ...errorResponses, 401: err("UNAUTHORIZED: missing or invalid bearer token") } as const;
export const errorResponse = err;

/** A non-negative integer from a query string: digits only (no "1e2", " 5" or "1.5"). */
export const queryInt = (min: number, max: number, dflt: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? dflt)
    .openapi({ type: "integer", minimum: min, maximum: max, default: dflt });

export const bearerSecurity = [{ Bearer: [] }];

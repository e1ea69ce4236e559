import type { Hono } from "hono";
import type { AppEnv } from "../env.js";
import { ApiError } from "../errors/api-error.js";

/** For the not-found handler: which methods the app serves at a path (so a wrong method is a 405). */
export function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL" || !/^[A-Z]+$/.test(r.method)) continue;
    const pattern = new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+").replace(/\*/g, ".*")}$`);
    if (pattern.test(path)) methods.add(r.method);
  }
  return [...methods];
}

export function methodNotAllowed(method: string, path: string, allow: string[]): ApiError {
  return new ApiError("RESOURCE_NOT_FOUND", `${method} is not supported on ${path}; use ${allow.join(", ")}`, { allowed_methods: allow }, {
    status: 405,
    headers: { Allow: allow.join(", ") },
  });
}

/** Authenticates a request signed by the Worker: signature, time window and single-use nonce. */
import type { IncomingMessage } from "node:http";
import { verifyRequest } from "@vexxy/contract";
import { HttpError, headerGetter } from "./http.js";
import type { ReplayGuard } from "./replay-guard.js";

export async function authenticate(req: IncomingMessage, rawBody: string, secrets: readonly string[], guard: ReplayGuard): Promise<void> {
  // The Worker signs the path it requested, query string included; req.url is exactly that.
  const check = await verifyRequest(secrets, req.method ?? "", req.url ?? "", rawBody, headerGetter(req));
  if (!check.ok) throw new HttpError("unauthorized", `request signature refused: ${check.reason}`);
  const verdict = guard.check(check.nonce, check.timestamp);
  if (verdict === "replayed") throw new HttpError("unauthorized", "request signature refused: replayed nonce");
  if (verdict === "full") throw new HttpError("at_capacity", "too many recent requests to remember; retry shortly", undefined, { "retry-after": "5" });
}

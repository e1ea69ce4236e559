/**
 * One structured line per refused credential (spec §12): request id, route, client address, what
 * kind of credential, why, and a fingerprint — the first 16 hex digits of the credential's SHA-256,
 * enough to tell repeated attempts with the same credential apart, never the credential itself.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env.js";
import { clientAddress } from "../lib/client-address.js";
import { sha256Hex } from "../lib/hash.js";
import { log } from "../lib/log.js";

export type CredentialKind = "bearer" | "operator" | "runner_signature" | "sign_in_link" | "password";

export async function logAuthFailure<E extends AppEnv>(c: Context<E>, kind: CredentialKind, reason: string, credential: string | null | undefined): Promise<void> {
  log("warn", "authentication failed", {
    request_id: (c as unknown as Context<AppEnv>).get("requestId"),
    route: `${c.req.method} ${new URL(c.req.url).pathname}`,
    client_address: clientAddress(c.req.raw.headers),
    kind,
    reason,
    fingerprint: credential ? (await sha256Hex(credential)).slice(0, 16) : null,
  });
}

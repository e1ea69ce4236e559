/** Seeds organizations in a known billing state through the ledger's own methods. */
import { env } from "cloudflare:workers";
import { ledgerFor } from "../../src/ledger/client.js";
import type { TierName } from "../../src/lib/tiers.js";
import type { AccountView } from "../../src/ledger/interface.js";
import { tokenFor } from "./tokens.js";
import { call } from "./http.js";

export const DIGEST = "sha256:" + "ab".repeat(32);

export async function newOrg(opts: { tier?: TierName; balance?: number; admin?: boolean } = {}) {
  const { token, claims } = await tokenFor({ is_admin: opts.admin ?? true });
  const orgId = claims.org_id!;
  await call("/api/v1/billing/subscription", { token }); // provisions org + user, opens the ledger
  const ledger = ledgerFor(env, orgId);
  if (opts.tier && opts.tier !== "free") {
    await ledger.changePlan({ orgId, opId: `seed-tier-${orgId}`, tier: opts.tier, status: "active", reason: "test seed" });
  }
  if (opts.balance !== undefined) {
    const acct = (await ledger.getAccount(orgId)) as AccountView;
    const delta = opts.balance - acct.balance;
    if (delta !== 0) {
      await ledger.credit({ orgId, opId: `seed-bal-${orgId}`, credits: delta, type: "operator_adjustment", pool: "grant", description: "test seed balance" });
    }
  }
  return { token, orgId, userId: claims.sub!, ledger };
}

/** A minimal valid submission (cost 11 at test_timeout 60 with no features). */
export function submission(over: Record<string, unknown> = {}) {
  return { image_ref: "nginx:1.25", image_digest: DIGEST, config: { test_timeout: 60, ports: [80] }, ...over };
}

export async function account(orgId: string): Promise<AccountView> {
  return (await ledgerFor(env, orgId).getAccount(orgId)) as AccountView;
}

/** Writes the organization's just-admitted jobs to D1 now (the ledger's job outbox does it right after admission anyway). */
/** Delivers what the organization's ledger holds to D1 and the queue now (the alarm would, a moment later). */
export async function deliver(orgId: string): Promise<number> {
  return (await ledgerFor(env, orgId).deliver(orgId)) as number;
}

import type { AccountView } from "../../ledger/interface.js";
import { ledgerFor } from "../../ledger/client.js";

export type { AccountView };

/** The organization's account (balances, counters, period) as its ledger has it now. */
export async function getAccount({ env, orgId }: { env: Env; orgId: string }): Promise<AccountView> {
  return (await ledgerFor(env, orgId).getAccount(orgId)) as AccountView;
}

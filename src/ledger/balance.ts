/**
 * The balance arithmetic, pure: how an entry moves the three pools (plan grant, purchased, held),
 * what a settlement draws from each, and what the grant keeps for in-flight holds at a period's
 * end or a downgrade. The ledger object applies these inside its transactions.
 */
import type { EntryType } from "./interface.js";
import { clampToHold } from "../lib/cost.js";
import type { AccountRow } from "./rows.js";

export interface EntryInput {
  type: EntryType;
  grant: number;
  purchased: number;
  held: number;
  jobId?: string | null;
  opId?: string | null;
  stripeEventId?: string | null;
  stripeObjectId?: string | null;
  description: string;
}

export interface Pools {
  grant_remaining: number;
  purchased_balance: number;
  held: number;
}

/** The pools after an entry; throws when a pool would go negative or holds would exceed the balance. */
export function applyEntry(p: Pools, e: Pick<EntryInput, "type" | "grant" | "purchased" | "held">): Pools {
  const next = { grant_remaining: p.grant_remaining + e.grant, purchased_balance: p.purchased_balance + e.purchased, held: p.held + e.held };
  if (next.grant_remaining < 0 || next.purchased_balance < 0 || next.held < 0) throw new RangeError(`ledger entry ${e.type} would make a pool negative`);
  if (next.held > next.grant_remaining + next.purchased_balance) {
    throw new RangeError(`ledger entry ${e.type} would leave ${next.held} held against a balance of ${next.grant_remaining + next.purchased_balance}`);
  }
  return next;
}

/** A settlement's cost, clamped to the hold on metered plans, drawn from the grant first. */
export function settlementParts(requested: number, holdAmount: number, grantRemaining: number, metered: boolean): { cost: number; grant: number; purchased: number } {
  // The ledger's clamp (lib/cost.ts): a metered plan never pays more than its hold, even a 0 hold.
  const whole = clampToHold(requested, 0);
  const cost = metered ? Math.min(whole, holdAmount) : whole;
  if (!metered) return { cost, grant: 0, purchased: 0 };
  const grant = Math.min(cost, grantRemaining);
  return { cost, grant, purchased: cost - grant };
}

/** What of the grant in-flight holds still need beyond the purchased credits (kept, not expired). */
export function grantReserved(a: Pick<AccountRow, "grant_remaining" | "held" | "purchased_balance">): number {
  return Math.min(a.grant_remaining, Math.max(0, a.held - a.purchased_balance));
}

/** A mid-period tier change moves the grant by the plans' difference, never below what holds need. */
export function planChangeGrantDelta(oldMonthly: number, newMonthly: number, a: Pick<AccountRow, "grant_remaining" | "held" | "purchased_balance">): number {
  return Math.max(newMonthly - oldMonthly, -(a.grant_remaining - grantReserved(a)));
}

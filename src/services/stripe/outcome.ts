/** What handling one Stripe event did, for the webhook's answer and the log. */
export interface EventOutcome {
  outcome: "applied" | "unchanged" | "ignored" | "duplicate";
  orgId: string | null;
  detail: string;
}
